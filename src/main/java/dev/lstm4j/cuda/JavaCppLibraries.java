package dev.lstm4j.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;

/** Loads the JavaCPP presets; reached only through {@link CudaLibraries} once a GPU was found. */
final class JavaCppLibraries {
    private JavaCppLibraries() {}

    static LibraryStatus loadCudart() {
        int[] v = new int[1];
        CudaCheck.cudart("cudaRuntimeGetVersion", cudart.cudaRuntimeGetVersion(v));
        // Creates the primary context: a driver too old for this runtime fails here, not at the first malloc.
        CudaCheck.cudart("cudaFree(null) (context creation)", cudart.cudaFree(null));
        return LibraryStatus.loaded("cudart", (v[0] / 1000) + "." + (v[0] % 1000) / 10);
    }

    static LibraryStatus loadCublas() {
        int[] major = new int[1];
        int[] minor = new int[1];
        int[] patch = new int[1];
        CudaCheck.cublas("cublasGetProperty(MAJOR_VERSION)", cublas.cublasGetProperty(cudart.MAJOR_VERSION, major));
        CudaCheck.cublas("cublasGetProperty(MINOR_VERSION)", cublas.cublasGetProperty(cudart.MINOR_VERSION, minor));
        CudaCheck.cublas("cublasGetProperty(PATCH_LEVEL)", cublas.cublasGetProperty(cudart.PATCH_LEVEL, patch));
        return LibraryStatus.loaded("cublas", major[0] + "." + minor[0] + "." + patch[0]);
    }

    static LibraryStatus loadCudnn() {
        long v = cudnn.cudnnGetVersion(); // 90501 = 9.5.1
        return LibraryStatus.loaded("cudnn", (v / 10000) + "." + (v % 10000) / 100 + "." + v % 100);
    }
}
