package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two native builds (native/Makefile, run by Maven before compiling): the host library is always there, the
 * GPU library is there whenever nvcc is, a kernel nvcc cannot compile fails the build, and a missing nvcc skips
 * only the GPU library, with a message.
 */
class NativeBuildTest {

    static boolean nvccPresent() {
        if (Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))) {
            return true;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return false;
    }

    static boolean cudaDriverPresent() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void theHostLibraryIsPackaged() {
        assertTrue(KernelLibrary.HOST.isPackaged(), KernelLibrary.HOST.resourceName());
    }

    @Test
    void nvccBuiltTheGpuLibraryWithEveryLauncher() {
        assumeTrue(nvccPresent(), "nvcc is not installed here, so the build leaves out the GPU library by design");
        assertTrue(KernelLibrary.CUDA.isPackaged(), "expected " + KernelLibrary.CUDA.resourceName() + " in the build");
        NativeKernels gpu = NativeKernels.bind(KernelLibrary.CUDA); // fails if any launcher symbol is missing
        assertEquals("cuda", gpu.buildInfo());
    }

    @Test
    void withoutADriverTheGpuLibraryReportsAStatusInsteadOfCrashing() {
        assumeTrue(nvccPresent(), "nvcc is not installed here, so there is no GPU library to call");
        assumeTrue(!cudaDriverPresent(), "an NVIDIA driver is present; this checks the behaviour without one");
        NativeKernels gpu = NativeKernels.bind(KernelLibrary.CUDA);
        // The address is never dereferenced: without a driver the launch fails before reaching the device.
        KernelException e = org.junit.jupiter.api.Assertions.assertThrows(KernelException.class,
                () -> gpu.fill(4, 1f, new DevicePtr(0x1000, 16, null)));
        assertTrue(e.getMessage().contains("lstm4j_fill"), e.getMessage());
        assertTrue(e.getMessage().contains("status 35") || e.getMessage().contains("status 100"), e.getMessage());
        KernelException count = org.junit.jupiter.api.Assertions.assertThrows(KernelException.class, gpu::deviceCount);
        assertTrue(count.getMessage().contains("lstm4j_device_count"), count.getMessage());
    }

    @Test
    void aKernelThatDoesNotCompileFailsTheGpuBuild(@TempDir Path tmp) throws Exception {
        assumeTrue(nvccPresent(), "nvcc is not installed here, so the GPU build does not run");
        Path copy = copySources(tmp);
        Files.writeString(copy.resolve("kernels/sequence_ops.cuh"), "\n__global__ void broken( { }\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        Result r = make(copy, "cuda", "OUT_ROOT=" + tmp.resolve("out"));
        assertNotEquals(0, r.exitCode(), "make must fail; output:\n" + r.output());
    }

    @Test
    void withoutNvccOnlyTheGpuLibraryIsSkippedWithAMessage(@TempDir Path tmp) throws Exception {
        Path copy = copySources(tmp);
        Path out = tmp.resolve("out");
        Result r = make(copy, "NVCC=", "OUT_ROOT=" + out);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("nvcc not found"), r.output());
        Path platform = out.resolve(KernelLibrary.platform());
        assertTrue(Files.isRegularFile(platform.resolve(KernelLibrary.HOST.fileName())), r.output());
        assertFalse(Files.exists(platform.resolve(KernelLibrary.CUDA.fileName())), r.output());
    }

    private record Result(int exitCode, String output) {}

    private static Result make(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("make", "--no-print-directory", "-C", dir.resolve("native").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "make finished");
        return new Result(p.exitValue(), output);
    }

    /** native/ and kernels/ copied, so that a test can break a source without touching the project's. */
    private static Path copySources(Path tmp) throws IOException {
        Path root = tmp.resolve("src");
        for (String dir : List.of("native", "kernels")) {
            Path from = Path.of(dir).toAbsolutePath();
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                    Path to = root.resolve(dir).resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to);
                    }
                }
            }
        }
        return root;
    }
}
