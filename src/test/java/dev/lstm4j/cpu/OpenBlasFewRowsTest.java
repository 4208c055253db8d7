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
 * {@link OpenBlas#sgemm} of up to {@link OpenBlas#SGEMV_ROWS} rows, which it hands to sgemv a row at a time: C's row
 * i = alpha A's row i op(B) + beta C's row i, for B as it is and transposed, at offsets and leading dimensions past
 * the matrices' widths, against the same product in double; and its operands checked as sgemm's. One row more
 * (sgemm itself) is held to the same reference.
 */
class OpenBlasFewRowsTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @BeforeAll
    static void openBlasLoads() {
        assertTrue(OpenBlas.isLoaded(), () -> "OpenBLAS must load on this platform: " + OpenBlas.loadFailure());
    }

    @ParameterizedTest(name = "B transposed: {0}")
    @ValueSource(booleans = {false, true})
    void fewRowsMatchTheProductInDouble(boolean transB) {
        int k = 37;
        int n = 45;
        int lda = k + 2;
        int ldb = (transB ? k : n) + 3;
        int ldc = n + 5;
        long aOff = 2;
        long bOff = 7;
        long cOff = 4;
        float alpha = 0.75f;
        float beta = -0.5f;
        for (int m : new int[] {1, 2, OpenBlas.SGEMV_ROWS, OpenBlas.SGEMV_ROWS + 1}) {
            try (Arena arena = Arena.ofConfined()) {
                SplittableRandom r = new SplittableRandom(m);
                MemorySegment a = random(arena, aOff + (long) m * lda, r);
                MemorySegment b = random(arena, bOff + (long) (transB ? n : k) * ldb, r);
                MemorySegment c = random(arena, cOff + (long) m * ldc, r);
                double[] expected = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int q = 0; q < k; q++) {
                            long bAt = bOff + (transB ? (long) j * ldb + q : (long) q * ldb + j);
                            sum += (double) a.getAtIndex(F, aOff + (long) i * lda + q) * b.getAtIndex(F, bAt);
                        }
                        expected[i * n + j] = alpha * sum + beta * c.getAtIndex(F, cOff + (long) i * ldc + j);
                    }
                }
                float[] past = new float[m]; // each row's first float past C's n columns
                for (int i = 0; i < m; i++) past[i] = c.getAtIndex(F, cOff + (long) i * ldc + n);
                OpenBlas.sgemm(false, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        // float32 sums of 37 products of values in [-1, 1]: within 37 * 2^-24 * 37, far below 1e-4
                        assertEquals(expected[i * n + j], c.getAtIndex(F, cOff + (long) i * ldc + j), 1e-4,
                                m + " rows, element (" + i + ", " + j + ")");
                    }
                }
                for (int i = 0; i < m; i++) {
                    assertEquals(past[i], c.getAtIndex(F, cOff + (long) i * ldc + n),
                            "C's rows are n wide: nothing written past row " + i);
                }
            }
        }
    }

    @ParameterizedTest(name = "B transposed: {0}")
    @ValueSource(booleans = {false, true})
    void fewRowsCheckTheirOperandsAsSgemm(boolean transB) {
        for (int m : new int[] {1, OpenBlas.SGEMV_ROWS}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = arena.allocate(m * 8L * Float.BYTES);
                MemorySegment b = arena.allocate(64L * Float.BYTES);
                MemorySegment c = arena.allocate(m * 9L * Float.BYTES);
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                        () -> OpenBlas.sgemm(false, transB, m, 9, 8, 1f, a, 0, 8, b, 0, transB ? 8 : 9, 0f, c, 0, 9));
                // B needs 72 floats of the 64 there: named as sgemm's B, before anything is computed
                assertTrue(e.getMessage().startsWith("sgemm/sgemv B: a "), e.getMessage());
            }
        }
    }

    private static MemorySegment random(Arena arena, long floats, SplittableRandom r) {
        MemorySegment s = arena.allocate(floats * Float.BYTES);
        for (long i = 0; i < floats; i++) s.setAtIndex(F, i, (float) r.nextDouble(-1, 1));
        return s;
    }
}
