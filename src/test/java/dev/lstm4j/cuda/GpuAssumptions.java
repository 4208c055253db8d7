package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** For tests tagged {@code gpu}: skip, saying why, unless a GPU and the named CUDA libraries are usable. */
public final class GpuAssumptions {
    private GpuAssumptions() {}

    public static void assumeGpu() {
        GpuDetection d = CudaDriver.detect();
        assumeTrue(d.gpuPresent(), "needs an NVIDIA GPU: " + d.reason());
    }

    /** A GPU, cudart, cuBLAS and cuDNN; a GPU whose libraries fail to load is a failure, not a skip. */
    public static void assumeGpuWithLibraries() {
        assumeGpu();
        for (LibraryStatus s : CudaLibraries.all()) {
            if (!s.loaded()) {
                throw new AssertionError("a GPU is present but " + s.library() + " did not load: " + s.reason()
                        + " (install CUDA 12 + cuDNN 9, or build with -Djavacpp.platform=linux-x86_64)");
            }
        }
    }
}
