package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Loads every kind of heap memory segment the JDK has (one class per primitive array type) before the backend's
 * kernels are compiled. While only some kinds are loaded, C2 compiles the kernels' segment accesses on the
 * assumption that those are all there are (a class-hierarchy dependency); the first segment of a new kind then
 * invalidates every method compiled so, kernels included, and they run as slow C1 code until C2 compiles them again.
 * In the main job's training that happened 5 s in, when Adam's state first wrapped a float[] (63 methods, among them
 * PackedGemm's block5, block6 and block8, each recompiled at 0.3-0.4 s of C2 time on the 2 cores that train).
 */
final class HeapSegmentKinds {
    private HeapSegmentKinds() {}

    /** Idempotent; cheap after the first call (the classes are loaded once). */
    static void load() {
        MemorySegment.ofArray(new byte[1]);
        MemorySegment.ofArray(new char[1]);
        MemorySegment.ofArray(new short[1]);
        MemorySegment.ofArray(new int[1]);
        MemorySegment.ofArray(new float[1]);
        MemorySegment.ofArray(new long[1]);
        MemorySegment.ofArray(new double[1]);
    }
}
