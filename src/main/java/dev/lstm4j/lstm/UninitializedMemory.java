package dev.lstm4j.lstm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Native memory from the C library's malloc, not zero-filled, freed by free when its arena closes. For results that
 * a backend writes whole: {@link Arena#allocate} zero-fills every byte, which for seed-mnist's 1.8-MB output is a
 * memset of 21 us, 1.3 % of its inference call, on the calling thread before any work starts.
 *
 * <p>With assertions enabled (the tests), the memory is filled with all-one bytes instead, a NaN in float32 and
 * float64, so that an element the backend fails to write shows up in any comparison.
 */
final class UninitializedMemory {
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        MALLOC = linker.downcallHandle(libc.find("malloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    private UninitializedMemory() {}

    /** bytes of native memory (aligned as malloc aligns: 16 bytes on 64-bit platforms) that live as long as arena. */
    static MemorySegment allocate(long bytes, Arena arena) {
        if (bytes <= 0) {
            return arena.allocate(0);
        }
        MemorySegment raw;
        try {
            raw = (MemorySegment) MALLOC.invokeExact(bytes);
        } catch (Throwable e) {
            throw new IllegalStateException("malloc(" + bytes + ") failed: " + e, e);
        }
        if (raw.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("malloc(" + bytes + "): no native memory for the results");
        }
        long address = raw.address();
        MemorySegment segment;
        try {
            segment = raw.reinterpret(bytes, arena, s -> free(address));
        } catch (RuntimeException e) { // the arena refused it (closed, or confined to another thread)
            free(address);
            throw e;
        }
        assert poisoned(segment);
        return segment;
    }

    private static boolean poisoned(MemorySegment segment) {
        segment.fill((byte) 0xFF);
        return true;
    }

    private static void free(long address) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable e) {
            throw new IllegalStateException("free failed: " + e, e);
        }
    }
}
