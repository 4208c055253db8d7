package dev.lstm4j.cuda;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Device;
import dev.lstm4j.tensor.DeviceMemory;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;

/**
 * Device memory from a {@link DeviceAllocator}: {@link #byteSize()} bytes usable (the block may be larger), aligned to
 * {@link #ALIGNMENT} bytes. Closing gives the block back to the allocator's cache; it is idempotent, and the address
 * is refused afterwards. Copies to and from it are in {@link DeviceCopies}.
 */
public final class DeviceBuffer implements DeviceMemory, AutoCloseable {
    /** cudaMalloc's guaranteed alignment. */
    public static final long ALIGNMENT = 256;

    private final DeviceAllocator allocator;
    private final long address;
    private final long byteSize;
    private final long capacity;
    private final long streamKey;
    private boolean closed;

    DeviceBuffer(DeviceAllocator allocator, long address, long byteSize, long capacity, long streamKey) {
        this.allocator = allocator;
        this.address = address;
        this.byteSize = byteSize;
        this.capacity = capacity;
        this.streamKey = streamKey;
    }

    @Override
    public Device device() {
        return allocator.device();
    }

    @Override
    public synchronized long address() {
        if (closed) {
            throw new IllegalStateException("device buffer: already closed (returned to the allocator)");
        }
        return address;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    /** The size of the block behind it (at least {@link #byteSize()}). */
    public long capacity() {
        return capacity;
    }

    /** How many elements of {@code dtype} fit. */
    public long elementCount(DType dtype) {
        return byteSize / dtype.byteSize();
    }

    /** A tensor view of this buffer; the buffer stays the owner. */
    public Tensor tensor(DType dtype, Shape shape) {
        return Tensor.onDevice(this, dtype, shape);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    long rawAddress() {
        return address;
    }

    long streamKey() {
        return streamKey;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        allocator.release(this);
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + device() + ", " + byteSize + " bytes" + (closed ? ", closed" : "") + "]";
    }
}
