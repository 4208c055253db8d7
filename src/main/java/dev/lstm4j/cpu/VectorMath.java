package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small float loops on segments for the fast backend, with the Vector API. Offsets and counts are in floats.
 *
 * <p>Each method is one self-contained loop: whole vectors, then the last n mod LANES floats in scalar code (no
 * partial masks, which C2 may leave to the Vector API's slow Java fallback). No vector is passed to or returned from
 * another method: a vector that crosses a call C2 does not inline is a heap object (see VectorBoundaryTest).
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private VectorMath() {}

    /** dst[dOff..+n] = a[aOff..+n] + b[bOff..+n] */
    static void add(MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment dst, long dOff, int n) {
        long ab = aOff * Float.BYTES;
        long bb = bOff * Float.BYTES;
        long db = dOff * Float.BYTES;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long o = (long) j * Float.BYTES;
            FloatVector.fromMemorySegment(S, a, ab + o, LE).add(FloatVector.fromMemorySegment(S, b, bb + o, LE))
                    .intoMemorySegment(dst, db + o, LE);
        }
        for (int j = full; j < n; j++) {
            long o = (long) j * Float.BYTES;
            dst.set(F, db + o, a.get(F, ab + o) + b.get(F, bb + o));
        }
    }

    /** dst[dOff..+n] = a[aOff..+n] * b[bOff..+n] */
    static void multiply(MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment dst, long dOff, int n) {
        long ab = aOff * Float.BYTES;
        long bb = bOff * Float.BYTES;
        long db = dOff * Float.BYTES;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long o = (long) j * Float.BYTES;
            FloatVector.fromMemorySegment(S, a, ab + o, LE).mul(FloatVector.fromMemorySegment(S, b, bb + o, LE))
                    .intoMemorySegment(dst, db + o, LE);
        }
        for (int j = full; j < n; j++) {
            long o = (long) j * Float.BYTES;
            dst.set(F, db + o, a.get(F, ab + o) * b.get(F, bb + o));
        }
    }

    /** dst[dOff..+n] = 0 */
    static void zero(MemorySegment dst, long dOff, int n) {
        long db = dOff * Float.BYTES;
        FloatVector z = FloatVector.zero(S);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            z.intoMemorySegment(dst, db + (long) j * Float.BYTES, LE);
        }
        for (int j = full; j < n; j++) {
            dst.set(F, db + (long) j * Float.BYTES, 0f);
        }
    }
}
