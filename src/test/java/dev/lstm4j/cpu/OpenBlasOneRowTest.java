package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link OpenBlas#sgemm} of one row, which it hands to sgemv: C's row = alpha a op(B) + beta C's row, for B as it is
 * and transposed, at offsets and leading dimensions past the matrices' widths, against the same product in double;
 * and its operands checked as sgemm's. Two rows (sgemm itself) are held to the same reference.
 */
class OpenBlasOneRowTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @BeforeAll
    static void openBlasLoads() {
        assertTrue(OpenBlas.isLoaded(), () -> "OpenBLAS must load on this platform: " + OpenBlas.loadFailure());
    }

    @ParameterizedTest(name = "B transposed: {0}")
    @ValueSource(booleans = {false, true})
    void oneRowMatchesTheProductInDouble(boolean transB) {
        int k = 37;
        int n = 45;
        int ldb = (transB ? k : n) + 3;
        int ldc = n + 5;
        long aOff = 2;
        long bOff = 7;
        long cOff = 4;
        float alpha = 0.75f;
        float beta = -0.5f;
        for (int m : new int[] {1, 2}) {
            try (Arena arena = Arena.ofConfined()) {
                SplittableRandom r = new SplittableRandom(m);
                MemorySegment a = random(arena, aOff + (long) m * k, r);
                MemorySegment b = random(arena, bOff + (long) (transB ? n : k) * ldb, r);
                MemorySegment c = random(arena, cOff + (long) m * ldc, r);
                double[] expected = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int q = 0; q < k; q++) {
                            long bAt = bOff + (transB ? (long) j * ldb + q : (long) q * ldb + j);
                            sum += (double) a.getAtIndex(F, aOff + (long) i * k + q) * b.getAtIndex(F, bAt);
                        }
                        expected[i * n + j] = alpha * sum + beta * c.getAtIndex(F, cOff + (long) i * ldc + j);
                    }
                }
                float past = c.getAtIndex(F, cOff + n); // the first float of row 0 past C's n columns
                OpenBlas.sgemm(false, transB, m, n, k, alpha, a, aOff, k, b, bOff, ldb, beta, c, cOff, ldc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        // float32 sums of 37 products of values in [-1, 1]: within 37 * 2^-24 * 37, far below 1e-4
                        assertEquals(expected[i * n + j], c.getAtIndex(F, cOff + (long) i * ldc + j), 1e-4,
                                m + " rows, element (" + i + ", " + j + ")");
                    }
                }
                assertEquals(past, c.getAtIndex(F, cOff + n), "C's row is n wide: nothing written past it");
            }
        }
    }

    @ParameterizedTest(name = "B transposed: {0}")
    @ValueSource(booleans = {false, true})
    void oneRowChecksItsOperandsAsSgemm(boolean transB) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(8L * Float.BYTES);
            MemorySegment b = arena.allocate(64L * Float.BYTES);
            MemorySegment c = arena.allocate(8L * Float.BYTES);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> OpenBlas.sgemm(false, transB, 1, 9, 8, 1f, a, 0, 8, b, 0, transB ? 8 : 9, 0f, c, 0, 9));
            // B needs 72 floats of the 64 there: named as sgemm's B, before anything is computed
            assertTrue(e.getMessage().startsWith("sgemm/sgemv B: a "), e.getMessage());
        }
    }

    private static MemorySegment random(Arena arena, long floats, SplittableRandom r) {
        MemorySegment s = arena.allocate(floats * Float.BYTES);
        for (long i = 0; i < floats; i++) s.setAtIndex(F, i, (float) r.nextDouble(-1, 1));
        return s;
    }
}
