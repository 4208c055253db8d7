package dev.lstm4j.cuda.kernels;

import java.lang.foreign.MemorySegment;

/**
 * A range of memory that kernels read or write: a device address and its size in bytes. On the host build the
 * memory is an ordinary native segment, kept here so that Java code (the host GEMM, copies) reaches it only through
 * the bounds-checked segment; on a GPU {@code host} is null and Java never dereferences the address.
 *
 * <p>Every launcher argument is checked against {@link #byteSize()} before the downcall, so a kernel never gets a
 * range smaller than the sizes it is told.
 */
public record DevicePtr(long address, long byteSize, MemorySegment host) {

    public static final DevicePtr NULL = new DevicePtr(0L, 0L, null);

    public DevicePtr {
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize: expected >= 0, got " + byteSize);
        }
    }

    public boolean isNull() {
        return address == 0L;
    }

    public long floatCount() {
        return byteSize / Float.BYTES;
    }

    /** The range that starts {@code offset} floats in and runs to the end. */
    public DevicePtr atFloat(long offset) {
        return slice(offset * Float.BYTES, byteSize - offset * Float.BYTES);
    }

    /** {@code count} floats starting {@code offset} floats in. */
    public DevicePtr floats(long offset, long count) {
        return slice(offset * Float.BYTES, count * Float.BYTES);
    }

    private DevicePtr slice(long byteOffset, long bytes) {
        if (isNull()) {
            throw new IllegalStateException("device pointer: cannot slice a null pointer");
        }
        if (byteOffset < 0 || bytes < 0 || byteOffset + bytes > byteSize) {
            throw new IndexOutOfBoundsException("device pointer: slice of " + bytes + " bytes at offset " + byteOffset
                    + " is outside a range of " + byteSize + " bytes");
        }
        return new DevicePtr(address + byteOffset, bytes, host == null ? null : host.asSlice(byteOffset, bytes));
    }

    /** Fails unless this range holds at least {@code count} elements of {@code elementBytes} bytes. */
    public DevicePtr require(String name, long count, int elementBytes) {
        if (isNull()) {
            throw new IllegalArgumentException(name + ": expected device memory for " + count + " elements, got null");
        }
        if (count < 0 || Math.multiplyExact(count, (long) elementBytes) > byteSize) {
            throw new IllegalArgumentException(name + ": expected room for " + count + " elements of " + elementBytes
                    + " bytes, got a range of " + byteSize + " bytes");
        }
        return this;
    }

    public DevicePtr requireFloats(String name, long count) {
        return require(name, count, Float.BYTES);
    }

    /** The host segment; fails on device memory. */
    public MemorySegment hostSegment() {
        if (host == null) {
            throw new IllegalStateException("device pointer: expected host memory (host kernel build), got device memory");
        }
        return host;
    }
}
