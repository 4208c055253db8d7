package dev.lstm4j.cuda;

import java.lang.System.Logger.Level;
import java.util.List;

/**
 * The gate in front of JavaCPP: the CUDA runtime, cuBLAS and cuDNN are loaded (once each) only after
 * {@link CudaDriver} found a driver and a device. A library that fails to load is reported once, with its name and the
 * cause, and lstm4j goes on without the backends that need it.
 *
 * <p>This class must not reference an {@code org.bytedeco} type; the loading itself lives in {@link JavaCppLibraries},
 * which the JVM only loads once the gate is open.
 */
public final class CudaLibraries {
    private static final System.Logger LOG = System.getLogger(CudaLibraries.class.getName());

    private CudaLibraries() {}

    private static final class Cudart {
        static final LibraryStatus STATUS = attempt("cudart", 0);
    }

    private static final class Cublas {
        static final LibraryStatus STATUS = attempt("cublas", 1);
    }

    private static final class Cudnn {
        static final LibraryStatus STATUS = attempt("cudnn", 2);
    }

    /** The CUDA runtime (libcudart.so.12 and its JNI wrapper). */
    public static LibraryStatus cudart() {
        return Cudart.STATUS;
    }

    public static LibraryStatus cublas() {
        return Cublas.STATUS;
    }

    public static LibraryStatus cudnn() {
        return Cudnn.STATUS;
    }

    public static List<LibraryStatus> all() {
        return List.of(cudart(), cublas(), cudnn());
    }

    /** Fails with the reason unless the CUDA runtime is usable. */
    public static void requireCudart() {
        require(cudart());
    }

    public static void requireCublas() {
        require(cublas());
    }

    public static void requireCudnn() {
        require(cudnn());
    }

    private static void require(LibraryStatus s) {
        if (!s.loaded()) {
            throw new IllegalStateException(s.library() + " is unavailable: " + s.reason());
        }
    }

    private static LibraryStatus attempt(String library, int which) {
        GpuDetection gpu = CudaDriver.detect();
        if (!gpu.gpuPresent()) {
            return LibraryStatus.failed(library, "not attempted: " + gpu.reason());
        }
        if (which != 0 && !cudart().loaded()) {
            return LibraryStatus.failed(library, "not attempted: cudart did not load (" + cudart().reason() + ")");
        }
        LibraryStatus s;
        try {
            s = switch (which) {
                case 0 -> JavaCppLibraries.loadCudart();
                case 1 -> JavaCppLibraries.loadCublas();
                default -> JavaCppLibraries.loadCudnn();
            };
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError, CudaException
            s = LibraryStatus.failed(library, describe(e));
        }
        if (!s.loaded()) {
            LOG.log(Level.WARNING, "lstm4j: " + library + " could not be loaded, so the backends that need it are off: "
                    + s.reason());
        }
        return s;
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.toString());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append("; caused by ").append(c);
        }
        return sb.toString();
    }
}
