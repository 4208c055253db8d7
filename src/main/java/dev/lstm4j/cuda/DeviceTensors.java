package dev.lstm4j.cuda;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;

/**
 * Tensors on a CUDA device: allocation from the device's caching allocator, asynchronous uploads and downloads on a
 * stream. A device tensor's memory is a {@link DeviceBuffer}; {@link #release(Tensor)} gives it back.
 */
public final class DeviceTensors {
    private DeviceTensors() {}

    /** An uninitialised device tensor for work on {@code stream}. */
    public static Tensor allocate(CudaDevice device, DType dtype, Shape shape, Stream stream) {
        long bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        return device.allocator().allocate(bytes, stream).tensor(dtype, shape);
    }

    /** A device copy of a host tensor, queued on {@code stream}; keep {@code host} alive until the stream passes it. */
    public static Tensor upload(Tensor host, CudaDevice device, Stream stream) {
        Tensor t = allocate(device, host.dtype(), host.shape(), stream);
        try {
            DeviceCopies.toDevice(host.segment(), t.deviceMemory(), 0, stream);
        } catch (RuntimeException e) {
            release(t);
            throw e;
        }
        return t;
    }

    /** Copies a device tensor into a host tensor of the same shape and dtype; complete after the stream syncs. */
    public static void download(Tensor device, Tensor host, Stream stream) {
        requireSameLayout(device, host);
        DeviceCopies.toHost(device.deviceMemory(), 0, host.segment(), stream);
    }

    /** Copies a host tensor into an existing device tensor of the same shape and dtype. */
    public static void copyToDevice(Tensor host, Tensor device, Stream stream) {
        requireSameLayout(device, host);
        DeviceCopies.toDevice(host.segment(), device.deviceMemory(), 0, stream);
    }

    /** Gives a tensor's buffer back to its allocator (idempotent). */
    public static void release(Tensor deviceTensor) {
        if (deviceTensor.deviceMemory() instanceof DeviceBuffer b) {
            b.close();
        } else {
            throw new IllegalArgumentException("tensor: expected one allocated by DeviceTensors, got memory of type "
                    + deviceTensor.deviceMemory().getClass().getSimpleName());
        }
    }

    private static void requireSameLayout(Tensor device, Tensor host) {
        if (!device.shape().equals(host.shape()) || device.dtype() != host.dtype()) {
            throw new IllegalArgumentException("host tensor: expected " + device.dtype() + " " + device.shape()
                    + " like the device tensor, got " + host.dtype() + " " + host.shape());
        }
    }
}
