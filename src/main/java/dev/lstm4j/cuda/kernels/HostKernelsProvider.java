package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;

/**
 * {@link BackendKind#HOST_KERNELS} ("kernels-host"): the CUDA kernel sources built with g++ and run on the host
 * through the same orchestration as the GPU. Available wherever the host library loads; never picked by auto.
 */
public final class HostKernelsProvider implements LstmBackendProvider {
    private volatile Availability availability;

    @Override
    public BackendKind kind() {
        return BackendKind.HOST_KERNELS;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            try {
                NativeKernels.bind(KernelLibrary.HOST);
                a = Availability.yes();
            } catch (KernelException e) {
                a = Availability.failed(e.getMessage());
            }
            availability = a;
        }
        return a;
    }

    @Override
    public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        return KernelSupport.unsupportedReason(spec, dtype);
    }

    @Override
    public LstmBackend create(LstmSpec spec, DType dtype) {
        KernelSupport.unsupportedReason(spec, dtype).ifPresent(why -> {
            throw new IllegalArgumentException("kernels-host: " + why);
        });
        return new KernelBackend(kind(), spec, new HostDeviceOps());
    }
}
