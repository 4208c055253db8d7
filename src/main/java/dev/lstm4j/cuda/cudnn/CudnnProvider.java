package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.CudaDriver;
import dev.lstm4j.cuda.CudaLibraries;
import dev.lstm4j.cuda.GpuDetection;
import dev.lstm4j.cuda.GpuInfo;
import dev.lstm4j.cuda.LibraryStatus;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The cuDNN backend's provider. Availability asks the driver first (FFM, no JavaCPP), then whether the CUDA runtime
 * and cuDNN loaded; no JavaCPP class is touched unless a GPU is present. Runs on device 0.
 */
public final class CudnnProvider implements LstmBackendProvider {
    /** cuDNN 9 supports compute capability 5.0 and newer. */
    static final int MIN_COMPUTE_MAJOR = 5;

    private final Supplier<Availability> availability;

    public CudnnProvider() {
        this(CudnnProvider::probe);
    }

    /** For tests: a provider whose availability is given (e.g. "GPU present" on a machine without one). */
    CudnnProvider(Supplier<Availability> availability) {
        this.availability = availability;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CUDNN;
    }

    @Override
    public Availability availability() {
        return availability.get();
    }

    @Override
    public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        Optional<String> why = CudnnSupport.unsupportedReason(spec, dtype);
        return why.isPresent() ? why : CudnnAlgorithm.fromSystemProperty().refusal(spec);
    }

    @Override
    public LstmBackend create(LstmSpec spec, DType dtype) {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException("backend cudnn: unavailable: " + a.reason());
        }
        return new CudnnLstmBackend(spec, dtype, CudaDevice.get(0), CudnnAlgorithm.fromSystemProperty());
    }

    private static Availability probe() {
        GpuDetection gpu = CudaDriver.detect();
        if (!gpu.gpuPresent()) {
            return Availability.noHardware(gpu.reason());
        }
        GpuInfo device = gpu.devices().get(0);
        if (device.computeMajor() < MIN_COMPUTE_MAJOR) {
            return Availability.noHardware(device + " has compute capability " + device.computeCapability()
                    + "; cuDNN 9 needs " + MIN_COMPUTE_MAJOR + ".0 or newer");
        }
        for (LibraryStatus s : new LibraryStatus[] {CudaLibraries.cudart(), CudaLibraries.cudnn()}) {
            if (!s.loaded()) {
                return Availability.failed(s.library() + " did not load: " + s.reason());
            }
        }
        return Availability.yes();
    }
}
