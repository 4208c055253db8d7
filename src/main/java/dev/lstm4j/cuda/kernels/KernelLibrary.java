package dev.lstm4j.cuda.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The two builds of the kernel sources, packed in the jar under {@code native/<platform>/} by native/Makefile:
 * {@link #HOST} (g++ through the emulation header) and {@link #CUDA} (nvcc). Loading extracts the library to a
 * temporary directory once per JVM and opens it for the life of the JVM.
 */
public enum KernelLibrary {
    HOST("liblstm4j_kernels_host.so"),
    CUDA("liblstm4j_kernels_cuda.so");

    private final String fileName;
    private volatile SymbolLookup lookup;
    private volatile Path extractedPath;

    KernelLibrary(String fileName) {
        this.fileName = fileName;
    }

    public String fileName() {
        return fileName;
    }

    /** linux-x86_64 and the like: the folder name native/Makefile uses. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName = os.startsWith("linux") ? "linux" : os.replace(' ', '_');
        String archName = arch.equals("amd64") ? "x86_64" : arch;
        return osName + "-" + archName;
    }

    /** The class-path resource of this library for the running platform. */
    public String resourceName() {
        return "native/" + platform() + "/" + fileName;
    }

    /** Whether the jar (or class path) carries this build for this platform. */
    public boolean isPackaged() {
        return KernelLibrary.class.getClassLoader().getResource(resourceName()) != null;
    }

    /** Where the library was extracted to, once loaded. */
    public Path extractedPath() {
        return extractedPath;
    }

    /** The library's symbols; extracts and opens it on first use. */
    public synchronized SymbolLookup lookup() {
        if (lookup == null) {
            Path path = extract();
            try {
                lookup = SymbolLookup.libraryLookup(path, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new KernelException("loading the kernel library " + path + " failed: " + e.getMessage(), e);
            }
            extractedPath = path;
        }
        return lookup;
    }

    private Path extract() {
        String resource = resourceName();
        try (InputStream in = KernelLibrary.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                String hint = this == CUDA
                        ? " (this build had no nvcc, so the GPU library was not built; see README, \"Our own CUDA kernels\")"
                        : " (build with mvn, which runs native/Makefile, on " + platform() + ")";
                throw new KernelException("kernel library: expected class-path resource " + resource + ", found none"
                        + hint);
            }
            Path dir = Files.createTempDirectory("lstm4j-native-");
            dir.toFile().deleteOnExit(); // deleted after the file: deleteOnExit runs in reverse order
            Path file = dir.resolve(fileName);
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new KernelException("kernel library: extracting " + resource + " to a temporary directory failed: "
                    + e.getMessage(), e);
        }
    }
}
