package dev.lstm4j.cuda.kernels;

import dev.lstm4j.cuda.CudaDriver;
import dev.lstm4j.cuda.CudaLibraries;
import dev.lstm4j.cuda.GpuDetection;
import dev.lstm4j.cuda.LibraryStatus;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;

/**
 * {@link BackendKind#CUDA_KERNELS} ("kernels"): lstm4j's own kernels (the nvcc build) with cuBLAS on GPU 0. Without
 * a GPU it reports missing hardware (detected through FFM, so no JavaCPP class is touched); with one, it is
 * unavailable with the reason when the GPU library was not built (no nvcc) or cannot run on this driver.
 */
public final class CudaKernelsProvider implements LstmBackendProvider {
    private volatile Availability availability;

    @Override
    public BackendKind kind() {
        return BackendKind.CUDA_KERNELS;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            a = probe();
            availability = a;
        }
        return a;
    }

    private static Availability probe() {
        GpuDetection gpu = CudaDriver.detect();
        if (!gpu.gpuPresent()) {
            return Availability.noHardware("no NVIDIA GPU: " + gpu.reason());
        }
        if (!KernelLibrary.CUDA.isPackaged()) {
            return Availability.failed("the GPU kernel library " + KernelLibrary.CUDA.resourceName()
                    + " is not in this build (nvcc was missing when it was built)");
        }
        LibraryStatus cublas = CudaLibraries.cublas();
        if (!cublas.loaded()) {
            return Availability.failed("cuBLAS is unavailable: " + cublas.reason());
        }
        try {
            int devices = NativeKernels.bind(KernelLibrary.CUDA).deviceCount();
            if (devices < 1) {
                return Availability.failed("the kernel library's CUDA runtime sees no device");
            }
        } catch (KernelException e) {
            return Availability.failed(e.getMessage());
        }
        return Availability.yes();
    }

    @Override
    public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        return KernelSupport.unsupportedReason(spec, dtype);
    }

    @Override
    public LstmBackend create(LstmSpec spec, DType dtype) {
        KernelSupport.unsupportedReason(spec, dtype).ifPresent(why -> {
            throw new IllegalArgumentException("kernels: " + why);
        });
        return new KernelBackend(kind(), spec, new CudaDeviceOps(0));
    }
}
