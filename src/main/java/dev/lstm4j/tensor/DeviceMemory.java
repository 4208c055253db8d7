package dev.lstm4j.tensor;

/**
 * Memory on a device, owned by whoever allocated it (the CUDA runtime in {@code dev.lstm4j.cuda}). A tensor that
 * lives on a device holds one of these; Java never dereferences {@link #address()}, it only passes it to native calls.
 */
public interface DeviceMemory {
    Device device();

    /** The device address, to hand to native code only. */
    long address();

    long byteSize();
}
