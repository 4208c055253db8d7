package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link NarrowBlocks}, called directly so that every machine runs them (PackedGemm takes them only where vectors
 * are 256 bits; with AVX-512 they run here on 512-bit vectors, the same code; the 4-row block they leave rows to is
 * PackedGemm's own, which {@link PackedGemmTest} runs on every machine). Each block against a triple loop in
 * double precision, from zero and added to C, with C's rows strided and the neighbours of the block's cells
 * untouched. Tolerance as {@link PackedGemmTest}'s: 1e-4 of the largest |entry| (at least 1), loose for float32
 * rounding over k <= 300 terms of |a b| <= 1 (worst case 300 * 6e-8 * 300 ~ 5e-3, typically ~sqrt(k) * 6e-8 * |sum|)
 * and tight for a missing or misplaced term (O(0.1) and more).
 */
class NarrowBlocksTest {
    private static final double TOL = 1e-4;
    private static final int NR = PackedGemm.NR;

    @ParameterizedTest(name = "{0} rows, k={1}")
    @CsvSource({"6, 1", "6, 156", "6, 300", "blocked, 1", "blocked, 129"})
    void blocksMatchATripleLoop(String block, int k) {
        int rows = block.equals("6") ? 6 : 4;
        int ldc = NR + 3;  // C's rows strided, a column either side of the block untouched
        SplittableRandom r = new SplittableRandom(rows * 1009L + k);
        // [rows, k] as rows (lda = k), or [k][MR] row-blocked (the block reads its first 4 of each MR), from offset 5
        float[] a = new float[Math.max(rows, PackedGemm.MR) * k + 5];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        float[] b = new float[3 + k * NR]; // one panel [k][NR] from offset 3
        for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() * 2 - 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate((long) NR * Float.BYTES, 64);
            for (boolean accumulate : new boolean[] {false, true}) {
                MemorySegment c = arena.allocate((long) (rows + 1) * ldc * Float.BYTES, 64);
                float[] start = new float[(rows + 1) * ldc];
                for (int i = 0; i < start.length; i++) {
                    start[i] = (float) (r.nextDouble() * 2 - 1);
                    c.setAtIndex(ValueLayout.JAVA_FLOAT, i, start[i]);
                }
                long c0 = 1; // column 1 of row 0
                MemorySegment init = accumulate ? c : zero;
                long i0 = accumulate ? c0 : 0;
                int ldi = accumulate ? ldc : 0;
                switch (block) {
                    case "6" -> NarrowBlocks.sixRows(k, a, 5, k, b, 3, init, i0, ldi, c, c0, ldc);
                    default -> NarrowBlocks.fourBlockedRows(k, a, 5, b, 3, init, i0, ldi, c, c0, ldc);
                }
                for (int i = 0; i < rows + 1; i++) {
                    for (int j = 0; j < ldc; j++) {
                        float got = c.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc + j);
                        boolean inBlock = i < rows && j >= c0 && j < c0 + NR;
                        if (!inBlock) {
                            assertEquals(start[i * ldc + j], got, 0f, block + ": row " + i + " column " + j
                                    + " is outside the block and changed");
                            continue;
                        }
                        double want = accumulate ? start[i * ldc + j] : 0;
                        for (int kk = 0; kk < k; kk++) {
                            int at = block.equals("blocked") ? 5 + kk * PackedGemm.MR + i : 5 + i * k + kk;
                            want += (double) a[at] * b[3 + kk * NR + (int) (j - c0)];
                        }
                        assertEquals(want, got, TOL * Math.max(1, Math.abs(want)), block + " accumulate="
                                + accumulate + ": row " + i + " column " + (j - c0));
                    }
                }
            }
        }
    }

    /**
     * The row split PackedGemm takes with them: as many 6-row blocks as leave no more than one single row, a
     * remainder of 2 or 3 rows giving up a 6 for two 4s.
     */
    @Test
    void sixRowBlocksLeaveAtMostOneSingleRow() {
        int[][] expected = { // m, 6-row blocks
            {1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 1}, {7, 1}, {8, 0}, {9, 0}, {10, 1}, {11, 1}, {12, 2},
            {14, 1}, {15, 1}, {20, 2}, {32, 4}, {64, 10}, {700, 116}};
        for (int[] e : expected) {
            assertEquals(e[1], NarrowBlocks.sixRowBlocks(e[0]), "m = " + e[0]);
        }
        for (int m = 6; m <= 200; m++) {
            int left = m - 6 * NarrowBlocks.sixRowBlocks(m);
            assertEquals(true, left % 4 <= 1 && left < 10, "m = " + m + " leaves " + left + " rows");
        }
    }
}
