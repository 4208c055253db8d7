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
            VectorMask<Float> m = j + S.length() <= n ? null : S.indexInRange(j, n);
            long o = (long) j * Float.BYTES;
            store(load(a, aOff * Float.BYTES + o, m).add(load(b, bOff * Float.BYTES + o, m)), dst,
                    dOff * Float.BYTES + o, m);
        }
    }

    /** dst[dOff..+n] = 0 */
    static void zero(MemorySegment dst, long dOff, int n) {
        FloatVector z = FloatVector.zero(S);
        for (int j = 0; j < n; j += S.length()) {
            VectorMask<Float> m = j + S.length() <= n ? null : S.indexInRange(j, n);
            store(z, dst, (dOff + j) * Float.BYTES, m);
        }
    }
    /** A full vector when m is null (the common case, no mask needed), else the lanes of m. */
    static FloatVector load(MemorySegment seg, long off, VectorMask<Float> m) {
        return m == null ? FloatVector.fromMemorySegment(S, seg, off, LE) : FloatVector.fromMemorySegment(S, seg, off, LE, m);
    }

    static void store(FloatVector v, MemorySegment seg, long off, VectorMask<Float> m) {
        if (m == null) {
            v.intoMemorySegment(seg, off, LE);
        } else {
            v.intoMemorySegment(seg, off, LE, m);
        }
    }
}
