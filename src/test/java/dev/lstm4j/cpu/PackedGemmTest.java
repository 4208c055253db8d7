package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link PackedGemm} against a straightforward triple loop in double precision, for both packings (B = W^T from a
 * [n, k] weight, B = W from a [k, n] one), with and without accumulation, on row counts that leave a tail after the
 * 4-row blocks (1, 3, 5, 20), odd k and k beyond one 128-row slab, and the whole panels split into two ranges as two
 * threads would run them. Columns past the whole panels must stay untouched (the caller computes them).
 *
 * <p>Tolerance: each entry is a float32 dot product of k terms |a b| <= 1 accumulated by FMA in float32, in a
 * different order than the loop; its error is below k * 2^-24 * sum|terms| <= 300 * 6e-8 * 300 ~ 5e-3 in the worst
 * case and ~sqrt(k) * 6e-8 * |sum| typically, so 1e-4 relative to the largest |entry| (at least 1) is loose for
 * rounding and tight for a missing or misplaced term (O(0.1) and more).
 */
class PackedGemmTest {
    private static final double TOL = 1e-4;

    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @CsvSource({"1, 1, 64", "3, 7, 40", "4, 33, 96", "5, 129, 70", "20, 200, 160", "20, 300, 33", "8, 2, 31",
        "13, 150, 64"}) // 13 rows: an 8-row block (AVX-512), a 4-row one and a single row; k > 128: two slabs
    void matchesATripleLoop(int m, int k, int n) {
        for (boolean transposed : new boolean[] {true, false}) {
            for (boolean accumulate : new boolean[] {true, false}) {
                check(m, k, n, transposed, accumulate);
            }
        }
    }

    private static void check(int m, int k, int n, boolean transposed, boolean accumulate) {
        SplittableRandom r = new SplittableRandom(m * 31L + k * 7L + n);
        int ldc = n + 3; // C rows wider than n: nothing past column n may be written
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = random(arena, (long) n * k, r);          // [n, k] or [k, n]
            float[] a = new float[2 + m * k];                          // [m, k] at offset 2
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
            MemorySegment c = random(arena, (long) m * ldc, r);        // [m, ldc]
            float[] c0 = c.toArray(ValueLayout.JAVA_FLOAT);
            float[] packed = new float[PackedGemm.packedSize(k, n)];
            int panels = PackedGemm.panels(n);
            int half = panels / 2;
            if (transposed) {
                PackedGemm.packTransposed(w, 0, n, k, packed, 0, half);
                PackedGemm.packTransposed(w, 0, n, k, packed, half, panels);
            } else {
                PackedGemm.packPlain(w, 0, k, n, packed, 0, half);
                PackedGemm.packPlain(w, 0, k, n, packed, half, panels);
            }
            PackedGemm.multiply(m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, 0, half);
            PackedGemm.multiply(m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, half, panels);

            int done = panels * PackedGemm.NR;
            double scale = 1;
            double[] expected = new double[m * ldc];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    double e = c0[i * ldc + j];
                    if (j < done) {
                        double sum = 0;
                        for (int kk = 0; kk < k; kk++) {
                            long wi = transposed ? (long) j * k + kk : (long) kk * n + j;
                            sum += (double) a[2 + i * k + kk] * w.getAtIndex(ValueLayout.JAVA_FLOAT, wi);
                        }
                        e = accumulate ? e + sum : sum;
                    }
                    expected[i * ldc + j] = e;
                    scale = Math.max(scale, Math.abs(e));
                }
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    float got = c.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc + j);
                    String where = "m=" + m + " k=" + k + " n=" + n + " transposed=" + transposed + " accumulate="
                            + accumulate + " at (" + i + ", " + j + ")";
                    if (j < done) {
                        assertEquals(expected[i * ldc + j], got, TOL * scale, where);
                    } else {
                        assertEquals(c0[i * ldc + j], got, 0.0, where + ": past the whole panels, must be untouched");
                    }
                }
            }
        }
    }

    @Test
    void rejectsShapesOutsideItsArrays() {
        float[] a = new float[10];
        float[] packed = new float[PackedGemm.packedSize(5, 64)];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(4L * 64 * 2);
            assertThrows(IndexOutOfBoundsException.class,
                    () -> PackedGemm.multiply(3, 64, 5, a, 0, 5, packed, false, c, 0, 64, 0, 1));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> PackedGemm.multiply(2, 64, 5, a, 0, 5, new float[3], false, c, 0, 64, 0, 1));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> PackedGemm.multiply(2, 64, 5, a, 0, 5, packed, false, c, 64, 64, 0, 1));
        }
    }

    private static MemorySegment random(Arena arena, long count, SplittableRandom r) {
        MemorySegment s = arena.allocate(Math.max(1, count) * Float.BYTES, 64);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }
}
