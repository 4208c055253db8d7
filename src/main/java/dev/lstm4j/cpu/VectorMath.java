package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/** Small float loops on segments for the fast backend, with the Vector API. Offsets and counts are in floats. */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    private VectorMath() {}

    /** dst[dOff..+n] = a[aOff..+n] + b[bOff..+n] */
    static void add(MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment dst, long dOff, int n) {
        for (int j = 0; j < n; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, n);
            long o = (long) j * Float.BYTES;
            FloatVector.fromMemorySegment(S, a, aOff * Float.BYTES + o, LE, m)
                    .add(FloatVector.fromMemorySegment(S, b, bOff * Float.BYTES + o, LE, m))
                    .intoMemorySegment(dst, dOff * Float.BYTES + o, LE, m);
        }
    }

    /** dst[dOff..+n] = 0 */
    static void zero(MemorySegment dst, long dOff, int n) {
        FloatVector z = FloatVector.zero(S);
        for (int j = 0; j < n; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, n);
            z.intoMemorySegment(dst, (dOff + j) * Float.BYTES, LE, m);
        }
    }
}
