package dev.lstm4j.cuda;

import dev.lstm4j.tensor.DeviceMemory;
import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.global.cudart;

/**
 * Asynchronous copies between host segments and device memory, queued on a stream. Every range is checked in Java
 * before the call. The host segment must stay alive until the stream has passed the copy ({@link Stream#synchronize()}
 * or an event); copies from or to pinned memory ({@link PinnedHostMemory}) overlap with other work, copies from
 * ordinary memory are staged by the driver.
 */
public final class DeviceCopies {
    private DeviceCopies() {}

    /** Copies all of {@code src} to {@code dst} at byte offset {@code dstOffset}. */
    public static void toDevice(MemorySegment src, DeviceMemory dst, long dstOffset, Stream stream) {
        checkRange("device destination", dst, dstOffset, src.byteSize());
        CudaCheck.cudart("cudaMemcpyAsync(host->device, " + src.byteSize() + " bytes)",
                cudart.cudaMemcpyAsync(DevicePointers.of(dst.address() + dstOffset), DevicePointers.host(src),
                        src.byteSize(), cudart.cudaMemcpyHostToDevice, stream.handle()));
    }

    /** Fills all of {@code dst} from {@code src} starting at byte offset {@code srcOffset}. */
    public static void toHost(DeviceMemory src, long srcOffset, MemorySegment dst, Stream stream) {
        checkRange("device source", src, srcOffset, dst.byteSize());
        CudaCheck.cudart("cudaMemcpyAsync(device->host, " + dst.byteSize() + " bytes)",
                cudart.cudaMemcpyAsync(DevicePointers.host(dst), DevicePointers.of(src.address() + srcOffset),
                        dst.byteSize(), cudart.cudaMemcpyDeviceToHost, stream.handle()));
    }

    public static void deviceToDevice(DeviceMemory src, long srcOffset, DeviceMemory dst, long dstOffset, long bytes,
                                      Stream stream) {
        checkRange("device source", src, srcOffset, bytes);
        checkRange("device destination", dst, dstOffset, bytes);
        CudaCheck.cudart("cudaMemcpyAsync(device->device, " + bytes + " bytes)",
                cudart.cudaMemcpyAsync(DevicePointers.of(dst.address() + dstOffset),
                        DevicePointers.of(src.address() + srcOffset), bytes, cudart.cudaMemcpyDeviceToDevice,
                        stream.handle()));
    }

    /** Sets every byte of {@code dst} to zero. */
    public static void zero(DeviceMemory dst, Stream stream) {
        CudaCheck.cudart("cudaMemsetAsync(0, " + dst.byteSize() + " bytes)",
                cudart.cudaMemsetAsync(DevicePointers.of(dst), 0, dst.byteSize(), stream.handle()));
    }

    static void checkRange(String what, DeviceMemory memory, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset > memory.byteSize() - bytes) {
            throw new IndexOutOfBoundsException(what + ": expected a range inside " + memory.byteSize()
                    + " bytes, got offset " + offset + " + " + bytes + " bytes");
        }
    }
}
