package dev.lstm4j.cuda;

import dev.lstm4j.tensor.DeviceMemory;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * JavaCPP pointers for addresses lstm4j owns (device buffers, native host segments). The pointers own nothing: no
 * deallocator is attached, the owner frees the memory.
 */
public final class DevicePointers {
    private DevicePointers() {}

    private static final class Raw extends Pointer {
        Raw(long address) {
            this.address = address;
        }
    }

    public static Pointer of(long address) {
        return new Raw(address);
    }

    public static Pointer of(DeviceMemory memory) {
        return of(memory.address());
    }

    public static FloatPointer floats(DeviceMemory memory) {
        return new FloatPointer(of(memory));
    }

    public static IntPointer ints(DeviceMemory memory) {
        return new IntPointer(of(memory));
    }

    /** A native host segment (from an Arena or pinned memory); heap segments have no stable address. */
    public static Pointer host(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("host segment: expected native memory (from an Arena), got a heap segment");
        }
        return of(segment.address());
    }
}
