package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link PackedGemm} against a straightforward triple loop in double precision, for both packings (B = W^T from a
 * [n, k] weight, B = W from a [k, n] one, each from one weight or two side by side), with and without accumulation,
 * on row counts that leave a tail after the 4-row blocks (1, 3, 5, 20), odd k, and the panels packed and multiplied
 * in two ranges as two threads would run them. Each case runs with this machine's slabs of k and with slabs of at
 * most 256, as machines with a 48 KiB L1 take them (k = 300: two of 150; 513: three of 171). The partial last panel goes through the
 * scratch path; nothing past column n may change.
 *
 * <p>Tolerance: each entry is a float32 dot product of k terms |a b| <= 1 accumulated by FMA in float32, in a
 * different order than the loop; its error is below k * 2^-24 * sum|terms| <= 300 * 6e-8 * 300 ~ 5e-3 in the worst
 * case and ~sqrt(k) * 6e-8 * |sum| typically, so 1e-4 relative to the largest |entry| (at least 1) is loose for
 * rounding and tight for a missing or misplaced term (O(0.1) and more).
 */
class PackedGemmTest {
    private static final double TOL = 1e-4;
    /** check's kc for {@link PackedGemm#multiply} without a slab size: whatever this machine takes. */
    private static final int MACHINE_SLABS = -1;

    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @CsvSource({"1, 1, 64", "3, 7, 40", "4, 33, 96", "5, 129, 70", "20, 200, 160", "20, 300, 33", "8, 2, 31",
        "13, 150, 64", "9, 513, 40", // 13 rows: an 8-row block (AVX-512), a 4-row one and a single row
        // pairs of panels in 5-row blocks (AVX-512), with the rows they leave taken first: 10 (none), 9 (a 4-row
        // block), 13 (8), 12 (8 and 4, no 5-row block), 17 (8 and 4, then 5), 16 and 21 (two 8-row blocks), 32 (12,
        // then 20), 6 and 7 (too few for those: one or two single rows); 3 and 5 panels leave one panel for the
        // one-panel path
        "10, 40, 64", "9, 129, 130", "13, 30, 160", "12, 20, 96", "17, 300, 200", "16, 33, 64", "21, 513, 128",
        "32, 650, 128", "6, 10, 64", "7, 33, 64"})
    void matchesATripleLoop(int m, int k, int n) {
        for (int kc : new int[] {MACHINE_SLABS, 256}) {
            for (boolean transposed : new boolean[] {true, false}) {
                for (boolean accumulate : new boolean[] {true, false}) {
                    for (boolean twoWeights : new boolean[] {false, true}) {
                        check(m, k, n, transposed, accumulate, twoWeights, kc);
                    }
                }
            }
        }
    }

    /**
     * Every block runs the same FMAs per row in the same order of k, from zero or from C's row, so a row's result
     * is the same bits whichever block computes it: each row of an m-row product against that row alone (a one-row
     * block). The m cover 6- and 5-row blocks from zero (6, 12, 17, 64; AVX-512), 8- and 4-row blocks before 5-row
     * ones (9, 13, 32, accumulating), in one slab of k and in slabs of 256 (k = 300).
     */
    @ParameterizedTest(name = "m={0} k={1}")
    @CsvSource({"6, 156", "12, 40", "17, 300", "64, 156", "9, 300", "13, 33", "32, 650"})
    void aRowsBitsDoNotDependOnTheBlockThatComputesIt(int m, int k) {
        int n = 4 * PackedGemm.NR; // two pairs of panels
        SplittableRandom r = new SplittableRandom(m * 131L + k);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = random(arena, (long) n * k, r); // [n, k]
            float[] packed = new float[PackedGemm.packedSize(k, n)];
            PackedGemm.packTransposed(w, k, null, 0, n, packed, 0, PackedGemm.panels(n));
            float[] a = new float[m * k];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
            MemorySegment start = random(arena, (long) m * n, r);
            for (int kc : new int[] {0, 256}) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    MemorySegment together = arena.allocate((long) m * n * Float.BYTES, 64).copyFrom(start);
                    MemorySegment alone = arena.allocate((long) m * n * Float.BYTES, 64).copyFrom(start);
                    PackedGemm.multiply(kc, m, n, k, a, 0, k, packed, accumulate, together, 0, n, 0,
                            PackedGemm.panels(n));
                    for (int i = 0; i < m; i++) {
                        PackedGemm.multiply(kc, 1, n, k, a, i * k, k, packed, accumulate, alone, (long) i * n, n, 0,
                                PackedGemm.panels(n));
                    }
                    for (int i = 0; i < m * n; i++) {
                        int bits = Float.floatToRawIntBits(together.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                        int one = Float.floatToRawIntBits(alone.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                        assertEquals(one, bits, "m=" + m + " k=" + k + " kc=" + kc + " accumulate=" + accumulate
                                + " row " + i / n + " column " + i % n);
                    }
                }
            }
        }
    }

    /**
     * B from one weight, or from two (split 1/3 : 2/3 along k for the transposed packing, along n for the plain one,
     * so that a panel straddles the two); without accumulation the partial last panel goes through
     * {@link PackedGemm#multiplyLastPanel}, with it those columns must stay untouched.
     */
    private static void check(int m, int k, int n, boolean transposed, boolean accumulate, boolean twoWeights,
                              int kc) {
        SplittableRandom r = new SplittableRandom(m * 31L + k * 7L + n);
        int ldc = n + 3; // C rows wider than n: nothing past column n may be written
        int split = twoWeights ? (transposed ? k : n) / 3 : (transposed ? k : n); // k1 or n1
        try (Arena arena = Arena.ofConfined()) {
            // transposed: W1 [n, k1], W2 [n, k - k1]; plain: W1 [k, n1], W2 [k, n - n1]
            int other = (transposed ? k : n) - split;
            MemorySegment w1 = random(arena, (long) split * (transposed ? n : k), r);
            MemorySegment w2 = twoWeights ? random(arena, (long) other * (transposed ? n : k), r) : null;
            float[] a = new float[2 + m * k];                          // [m, k] at offset 2
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
            MemorySegment c = random(arena, (long) m * ldc, r);        // [m, ldc]
            float[] c0 = c.toArray(ValueLayout.JAVA_FLOAT);
            float[] packed = new float[PackedGemm.coveredSize(k, n)];
            int covering = PackedGemm.coveringPanels(n);
            int half = covering / 2;
            int panels = PackedGemm.panels(n);
            if (transposed) {
                PackedGemm.packTransposed(w1, split, w2, twoWeights ? other : 0, n, packed, 0, half);
                PackedGemm.packTransposed(w1, split, w2, twoWeights ? other : 0, n, packed, half, covering);
            } else {
                PackedGemm.packPlain(w1, split, w2, twoWeights ? other : 0, k, packed, 0, half);
                PackedGemm.packPlain(w1, split, w2, twoWeights ? other : 0, k, packed, half, covering);
            }
            int mid = Math.min(half, panels);
            if (kc == MACHINE_SLABS) {
                PackedGemm.multiply(m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, 0, mid);
                PackedGemm.multiply(m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, mid, panels);
            } else {
                PackedGemm.multiply(kc, m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, 0, mid);
                PackedGemm.multiply(kc, m, n, k, a, 2, k, packed, accumulate, c, 0, ldc, mid, panels);
            }
            if (!accumulate) {
                MemorySegment scratch = arena.allocate((long) (m + 1) * PackedGemm.NR * Float.BYTES, 64);
                PackedGemm.multiplyLastPanel(m, n, k, a, 2, k, packed, c, 0, ldc, scratch, PackedGemm.NR);
            }

            int done = accumulate ? panels * PackedGemm.NR : n;
            double scale = 1;
            double[] expected = new double[m * ldc];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    double e = c0[i * ldc + j];
                    if (j < done) {
                        double sum = 0;
                        for (int kk = 0; kk < k; kk++) {
                            sum += (double) a[2 + i * k + kk] * weight(w1, w2, transposed, split, other, k, n, kk, j);
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
                            + accumulate + " twoWeights=" + twoWeights + " kc=" + kc + " at (" + i + ", " + j + ")";
                    if (j < done) {
                        assertEquals(expected[i * ldc + j], got, TOL * scale, where);
                    } else {
                        assertEquals(c0[i * ldc + j], got, 0.0, where + ": past the computed columns, must be untouched");
                    }
                }
            }
        }
    }

    /**
     * A = S^T packed by row blocks (the weight gradients' dA^T [X H]): S [k, m] with a wider leading dimension, the
     * rows r0..r1 of C computed in two ranges as two threads would, whole panels and the partial last one through
     * the scratch; rows outside r0..r1 and columns past n stay untouched. Machine slabs and slabs of 256.
     */
    /**
     * {@link PackedGemm#multiplyTransposed}: C = S^T B for two products at once (n and n2 columns, partial last
     * panels or not), over two parts of the rows, on this machine's slabs of k and on slabs of 256; rows and columns
     * outside the parts must stay untouched.
     */
    @ParameterizedTest(name = "m={0} k={1} n={2} n2={3} rows {4}..{5}")
    @CsvSource({"16, 5, 40, 32, 0, 16", "32, 300, 70, 7, 8, 24", "24, 513, 28, 64, 0, 24", "64, 37, 64, 33, 16, 64",
        "272, 1300, 40, 40, 8, 264"}) // the last: more rows per part than one chunk of 128, k over one slab of 1024
    void transposedProductsMatchATripleLoop(int m, int k, int n, int n2, int r0, int r1) {
        int mr = PackedGemm.MR;
        int from = r0 / mr * mr; // multiples of the block rows on machines where they are 4
        int to = r1 / mr * mr;
        int half = (from + to) / 2 / mr * mr;
        for (int kc : new int[] {MACHINE_SLABS, 256}) {
            SplittableRandom r = new SplittableRandom(m * 13L + k + n);
            int lds = m + 5;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = random(arena, (long) k * lds, r);             // [k, lds]
                int[] widths = {n, n2};
                MemorySegment[] b = new MemorySegment[2];                       // [k, n], [k, n2]
                MemorySegment[] c = new MemorySegment[2];                       // [m, n + 3], [m, n2 + 1]
                int[] ldc = {n + 3, n2 + 1};
                float[][] c0 = new float[2][];
                float[][] packed = new float[2][];
                for (int q = 0; q < 2; q++) {
                    b[q] = random(arena, (long) k * widths[q], r);
                    c[q] = random(arena, (long) m * ldc[q], r);
                    c0[q] = c[q].toArray(ValueLayout.JAVA_FLOAT);
                    packed[q] = new float[PackedGemm.coveredSize(k, widths[q])];
                    PackedGemm.packPlain(b[q], widths[q], null, 0, k, packed[q], 0,
                            PackedGemm.coveringPanels(widths[q]));
                }
                MemorySegment scratch = arena.allocate(2L * m * PackedGemm.NR * Float.BYTES, 64);
                float[] buffer = new float[kc == MACHINE_SLABS ? PackedGemm.transposedBufferSize(k)
                        : PackedGemm.transposedBufferSize(kc, k)];
                for (int[] part : new int[][] {{from, half}, {half, to}}) {
                    long at = (long) part[0] * PackedGemm.NR;
                    PackedGemm.Product p1 = new PackedGemm.Product(packed[0], n, c[0], 0, ldc[0], scratch, at);
                    PackedGemm.Product p2 = new PackedGemm.Product(packed[1], n2, c[1], 0, ldc[1], scratch,
                            (long) m * PackedGemm.NR + at);
                    if (kc == MACHINE_SLABS) {
                        PackedGemm.multiplyTransposed(s, 0, lds, k, part[0], part[1], buffer, p1, p2);
                    } else {
                        PackedGemm.multiplyTransposed(kc, s, 0, lds, k, part[0], part[1], buffer, p1, p2);
                    }
                }
                for (int q = 0; q < 2; q++) {
                    double scale = 1;
                    double[] expected = new double[m * ldc[q]];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ldc[q]; j++) {
                            double e = c0[q][i * ldc[q] + j];
                            if (i >= from && i < to && j < widths[q]) {
                                e = 0;
                                for (int kk = 0; kk < k; kk++) {
                                    e += (double) s.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * lds + i)
                                            * b[q].getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * widths[q] + j);
                                }
                            }
                            expected[i * ldc[q] + j] = e;
                            scale = Math.max(scale, Math.abs(e));
                        }
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ldc[q]; j++) {
                            float got = c[q].getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc[q] + j);
                            String where = "product " + q + " m=" + m + " k=" + k + " n=" + widths[q] + " kc=" + kc
                                    + " at (" + i + ", " + j + ")";
                            boolean computed = i >= from && i < to && j < widths[q];
                            assertEquals(expected[i * ldc[q] + j], got, computed ? TOL * scale : 0.0,
                                    computed ? where : where + ": outside the computed rows and columns, untouched");
                        }
                    }
                }
            }
        }
    }

    @Test
    void transposedProductsRefuseAShortBufferOrScratch() {
        try (Arena arena = Arena.ofConfined()) {
            int k = 40;
            int m = 2 * PackedGemm.MR;
            int n = 2 * PackedGemm.NR + 3; // a partial last panel, which goes through scratch, whatever NR is
            MemorySegment s = arena.allocate((long) k * m * Float.BYTES);
            MemorySegment c = arena.allocate((long) m * n * Float.BYTES);
            float[] packed = new float[PackedGemm.coveredSize(k, n)];
            MemorySegment scratch = arena.allocate((long) m * PackedGemm.NR * Float.BYTES);
            PackedGemm.Product product = new PackedGemm.Product(packed, n, c, 0, n, scratch, 0);
            float[] buffer = new float[PackedGemm.transposedBufferSize(k)];
            IndexOutOfBoundsException shortBuffer = assertThrows(IndexOutOfBoundsException.class,
                    () -> PackedGemm.multiplyTransposed(s, 0, m, k, 0, m, new float[buffer.length - 1], product));
            assertTrue(shortBuffer.getMessage().contains("buffer"), shortBuffer.getMessage());
            PackedGemm.Product late = new PackedGemm.Product(packed, n, c, 0, n, scratch, 1);
            IndexOutOfBoundsException shortScratch = assertThrows(IndexOutOfBoundsException.class,
                    () -> PackedGemm.multiplyTransposed(s, 0, m, k, 0, m, buffer, late));
            assertTrue(shortScratch.getMessage().contains("scratch"), shortScratch.getMessage());
        }
    }

    /** B[kk, j] of the logical B: [W1 W2]^T (transposed) or [W1 W2] (plain). */
    private static float weight(MemorySegment w1, MemorySegment w2, boolean transposed, int split, int other, int k,
                                int n, int kk, int j) {
        if (transposed) { // W1 [n, split], W2 [n, other], B[kk, j] = W[j, kk]
            return kk < split ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * split + kk)
                    : w2.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * other + kk - split);
        }
        // W1 [k, split], W2 [k, other], B[kk, j] = W[kk, j]
        return j < split ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * split + j)
                : w2.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * other + j - split);
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

    /**
     * A last panel of 1 to NR - 1 columns from W1 alone, and one from W2 after a whole panel of W1: every packed float
     * is its weight or zero, up to the last row, where two whole vectors would read past the matrix (its segment
     * holds exactly its floats, so such a read would throw).
     */
    @Test
    void packsPartialPanelsUpToTheLastFloatOfTheirMatrix() {
        int k = 5;
        int lanes = PackedGemm.NR / 2;
        for (int cols : new int[] {1, lanes - 1, lanes, lanes + 1, PackedGemm.NR - 1}) {
            SplittableRandom r = new SplittableRandom(cols);
            try (Arena arena = Arena.ofConfined()) {
                int n1 = PackedGemm.NR + cols;
                MemorySegment w1 = random(arena, (long) k * n1, r); // [k, n1]: a whole panel, then a partial one
                MemorySegment w2 = random(arena, (long) k * cols, r); // [k, cols] beside a W1 of one whole panel
                float[] alone = new float[PackedGemm.coveredSize(k, n1)];
                float[] beside = new float[PackedGemm.coveredSize(k, n1)];
                java.util.Arrays.fill(alone, Float.NaN);
                java.util.Arrays.fill(beside, Float.NaN);
                PackedGemm.packPlain(w1, n1, null, 0, k, alone, 0, 2);
                PackedGemm.packPlain(w1, PackedGemm.NR, w2, cols, k, beside, 0, 2);
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < 2 * PackedGemm.NR; j++) {
                        int at = (j / PackedGemm.NR) * PackedGemm.NR * k + kk * PackedGemm.NR + j % PackedGemm.NR;
                        float fromW1 = j < n1 ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * n1 + j) : 0f;
                        assertEquals(fromW1, alone[at], "W1 alone, " + cols + " columns: row " + kk + ", column " + j);
                        float fromBoth = j < PackedGemm.NR
                                ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * PackedGemm.NR + j)
                                : j < n1 ? w2.getAtIndex(ValueLayout.JAVA_FLOAT, (long) kk * cols + j - PackedGemm.NR)
                                : 0f;
                        assertEquals(fromBoth, beside[at], "W2 after W1, " + cols + " columns: row " + kk + ", column "
                                + j);
                    }
                }
            }
        }
    }

    /** Slabs of 256 only where they were measured to pay: an L1 of 48 KiB or more that is not an AMD one. */
    @Test
    void slabsAsMeasuredPerMachine() {
        assertEquals(0, PackedGemm.slabRowsFor(CpuVendor.AMD, 48L << 10), "Zen 5: one slab");
        assertEquals(0, PackedGemm.slabRowsFor(CpuVendor.AMD, 32L << 10), "Zen 4: one slab");
        assertEquals(256, PackedGemm.slabRowsFor("GenuineIntel", 48L << 10), "the Intel VM: slabs of 256");
        assertEquals(0, PackedGemm.slabRowsFor("GenuineIntel", 32L << 10));
        assertEquals(256, PackedGemm.slabRowsFor("", 64L << 10), "vendor unknown: by L1 alone");
    }

    /**
     * The transposed packing moves floats, so it must be exact: every packed float is its weight's bits, or +0 past
     * column n, for one weight or two (k1 and k2 with and without a tail past whole blocks of 8, a last panel whose
     * columns end inside a block of 8 rows or at one). The buffer starts as NaN, so a float left unwritten fails.
     */
    @ParameterizedTest(name = "n={0} k1={1} k2={2}")
    @CsvSource({"64, 16, 0", "37, 13, 7", "8, 3, 5", "71, 24, 17", "40, 650, 0", "33, 1, 8"})
    void packsTransposedWeightsToTheBit(int n, int k1, int k2) {
        int nr = PackedGemm.NR;
        int k = k1 + k2;
        SplittableRandom r = new SplittableRandom(n * 131L + k1 * 7L + k2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w1 = random(arena, (long) n * k1, r); // [n, k1]
            MemorySegment w2 = k2 > 0 ? random(arena, (long) n * k2, r) : null; // [n, k2]
            w1.setAtIndex(ValueLayout.JAVA_FLOAT, 0, -0f);
            int covering = PackedGemm.coveringPanels(n);
            float[] packed = new float[PackedGemm.coveredSize(k, n)];
            java.util.Arrays.fill(packed, Float.NaN);
            PackedGemm.packTransposed(w1, k1, w2, k2, n, packed, 0, covering / 2);
            PackedGemm.packTransposed(w1, k1, w2, k2, n, packed, covering / 2, covering);
            for (int col = 0; col < covering * nr; col++) {
                for (int kk = 0; kk < k; kk++) {
                    float want = col >= n ? 0f : kk < k1 ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) col * k1 + kk)
                            : w2.getAtIndex(ValueLayout.JAVA_FLOAT, (long) col * k2 + kk - k1);
                    float got = packed[(col / nr) * nr * k + kk * nr + col % nr];
                    int c = col;
                    int row = kk;
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                            () -> "column " + c + ", row " + row + ": expected " + want + ", got " + got);
                }
            }
        }
    }

    private static MemorySegment random(Arena arena, long count, SplittableRandom r) {
        MemorySegment s = arena.allocate(Math.max(1, count) * Float.BYTES, 64);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }
}
