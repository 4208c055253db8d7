package dev.lstm4j.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = A B (or C += A B) for the per-step recurrent GEMMs, with B packed once per call instead of once per step.
 *
 * <p>OpenBLAS re-packs its B operand on every sgemm; for the per-step [rows x P] x [P x 4H] of the recurrence with
 * few rows, that packing, not the arithmetic, sets the time. Here B is packed once per forward or backward call into
 * column panels of {@link #NR} columns (two vectors), each panel stored k-major ({@code [k][NR]}), so that
 * one step streams every panel once and a register block of 8 rows (6 and 4 without AVX-512, the 6 in
 * {@link NarrowBlocks}) does 2 FMAs per row for every 2 vector loads; with AVX-512, pairs of panels go through a
 * block of 5 rows doing 4 FMAs per row for every 4 loads ({@link #block5}), or of 6 rows in a product from zero
 * ({@link #block6}).
 *
 * <p>A lives in a heap array (a copy of the step's rows, a few KiB); C is a segment of the workspace. Work is split
 * by panel ranges: different panels write different columns of C, so ranges can run on different threads.
 */
final class PackedGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    static final int LANES = S.length();
    /**
     * Whether the kernel runs on this JVM: it needs vectors of at least 8 floats (AVX2 or AVX-512; with 4, as under
     * -XX:UseAVX=0, its panels of 8 columns lose to OpenBLAS, which then takes every GEMM).
     */
    static final boolean USABLE = LANES >= 8;
    /** Columns per packed panel. */
    static final int NR = 2 * LANES;
    /**
     * Rows per register block: 8 (16 accumulators, plus 2 weight vectors and a broadcast) where vectors are 512 bits,
     * as AVX-512 has 32 vector registers; 4 elsewhere, since AVX2's 16 would spill the 8-row block (measured with
     * -XX:UseAVX=2: 60 against 75 GFLOP/s on one core; with AVX-512 the 8-row block gives 140 against 110).
     */
    static final int MR = S.vectorBitSize() >= 512 ? 8 : 4;
    /** MR floats: one row block's k-th column, as {@link #multiplyTransposed} packs it. */
    private static final VectorSpecies<Float> BLOCK_COLUMN =
            VectorSpecies.of(float.class, VectorShape.forBitSize(MR * Float.SIZE));
    /** Most k rows per slab on this machine, 0 for the whole of k in one slab ({@link #slabRowsFor}). */
    private static final int KC = slabRowsFor(CpuVendor.vendor(), CacheSize.l1DataBytes());
    /**
     * Most k rows per slab for {@link #multiplyTransposed}, whose k is a whole sequence's T * B rows: a panel's slab
     * of 1024 is 128 KiB, which L2 keeps while every row block reads it. Zen 4 (one core, GFLOP/s, one slab / 256 /
     * 1024 / 2048): [2048 x 6400] x [6400 x 512] 95 / 105-107 / 106 / 96-97, [512 x 3584] x [3584 x 128] 112-113 /
     * 109-111 / 94-113 / 113-114, [2600 x 700] x [700 x 640] 107-109 / 103-104 / 108-109 / 108-110. Zen 5 (one
     * core, one slab / 512 / 1024 / 2048): [2048 x 6400] x [6400 x 768] 199 / 227 / 228 / 229, [512 x 3584] x
     * [3584 x 156] 187 / 183 / 185 / 180, [2600 x 700] x [700 x 1300] 234 / 219 / 232 / 237 (one slab at 1024 and
     * 2048 alike): 1024 stays.
     */
    private static final int ROW_BLOCK_KC = 1024;
    /** Rows of A per chunk in {@link #multiplyTransposed}: 128 x 1024 floats of a slab, 512 KiB. */
    static final int ROW_CHUNK = 128;
    /** NR zeros, never written: the starting accumulators of a product that does not add to C. */
    private static final MemorySegment ZERO_PANEL = Arena.global().allocate((long) NR * Float.BYTES, 64);
    /** 2 NR zeros, for a product over two panels at once ({@link #block5}). */
    private static final MemorySegment ZERO_PAIR = Arena.global().allocate(2L * NR * Float.BYTES, 64);
    /** Weight rows (columns of B) per transposed block: 8, in vectors of 8 floats; NR is a multiple of it. */
    private static final int TRANSPOSE_ROWS = 8;
    private static final VectorSpecies<Integer> BLOCK = IntVector.SPECIES_256;
    /**
     * The three stages of an 8 x 8 transpose, each swapping one bit of the row index with the same bit of the lane
     * index (4, then 2, then 1), as lane indices into two rows (0-7 the first, 8-15 the second): from rows r and r +
     * bit (r with the bit clear), LOW makes the new row r (lane c: row r's lane c where c has the bit clear, row r +
     * bit's lane c - bit where it is set) and HIGH the new row r + bit (row r's lane c + bit, or row r + bit's lane
     * c). Eight ints per stage.
     */
    private static final int[] LOW = transposeIndices(true);
    private static final int[] HIGH = transposeIndices(false);

    private PackedGemm() {}

    /**
     * Whole panels in n columns. The last n mod NR columns are not packed: the caller computes them otherwise (a
     * partial panel would need masked vector stores, which C2 leaves to the Vector API's slow fallback).
     */
    static int panels(int n) {
        return n / NR;
    }

    /** Panels covering n columns: the whole ones and, when n mod NR > 0, a last one padded with zero columns. */
    static int coveringPanels(int n) {
        return (n + NR - 1) / NR;
    }

    /**
     * Most k rows per slab, 0 for the whole of k in one slab; k is split evenly into slabs of at most this, so that
     * a slab of a panel (32 KiB at 256 rows, NR = 32) stays in L1 while every row block reads it. That paid on the
     * one Intel machine measured, whose L1 holds 48 KiB: against 128, one core, [20 x 400] x [400 x 800] 84 -> 79
     * us, [20 x 800] x [800 x 416] 91 -> 81 us, [32 x 768] x [768 x 2048] 756 -> 694 us; 512 was slower again. On
     * both AMD machines measured one slab is faster, whatever their L1: Zen 4's 32 KiB (same JVM, alternating, one
     * core: [32 x 512] x [512 x 2048] 98.6-107.5 -> 102.8-112.5 GFLOP/s, [20 x 650] x [650 x 2592] 107-109 ->
     * 110-112, [20 x 2600] x [2600 x 640] 102-107 -> 111.5-112.8, [20 x 6000] x [6000 x 1500] 85-88 -> 92-95; 128:
     * ptb-medium inference 55.8-58.2 against 54.8-57.3 ms, large-batch 123-125 against 113-119) and Zen 5's 48 KiB
     * (one slab against 256, same JVM, alternating, one core: [20 x 650] x [650 x 1300] 1.07 times as fast,
     * [20 x 1500] x [1500 x 3000] 1.27, [128 x 1500] x [1500 x 3000] 1.07, [64 x 768] x [768 x 2048] 1.06,
     * [20 x 400] x [400 x 800] 1.04, [32 x 512] x [512 x 2048] level), where each slab costs every row block its
     * accumulators' loads and stores and L2 keeps up with the rest. Elsewhere: slabs of 256 where L1 holds 48 KiB
     * or more, as on the Intel machine, one slab otherwise.
     */
    static int slabRowsFor(String vendor, long l1DataBytes) {
        return vendor.equals(CpuVendor.AMD) || l1DataBytes < 48L << 10 ? 0 : 256;
    }

    /** This machine's slabs of k in words, for {@code lstm4j info} and benchmark reports. */
    static String slabSetting() {
        return KC == 0 ? "all of k in one slab" : "k in slabs of at most " + KC;
    }

    /** This machine's register blocks in words, for {@code lstm4j info}. */
    static String blockSetting() {
        return MR == 8 ? "blocks of 8 rows, of 5 and 6 over pairs of panels" : "blocks of 6 and 4 rows";
    }

    /** Floats of the packed whole panels of a B of k rows and n columns. */
    static int packedSize(int k, int n) {
        return Math.multiplyExact(panels(n) * NR, k);
    }

    /** Floats of every covering panel of a B of k rows and n columns ({@link #multiplyLastPanel} needs them). */
    static int coveredSize(int k, int n) {
        return Math.multiplyExact(coveringPanels(n) * NR, k);
    }

    /**
     * Packs panels p0..p1-1 of B = [W1 W2]^T, k1 + k2 rows and n columns, from W1 [n, k1] and W2 [n, k2] row-major
     * (weights stored [out, in]: W_hh alone in the forward step h W_hh^T, or W_ih beside W_hh in the fused step
     * [x h] [W_ih W_hh]^T). W2 may be null with k2 = 0. Columns past n (in a last, partial panel) are zero.
     *
     * <p>Eight weight rows at a time, transposed in blocks of 8 x 8 in registers ({@link #transposeBlocks}); the
     * floats are moved, never computed, so the packing is exact. A per-float copy through a row buffer, as before,
     * cost 3.5 times as long where the weights are in cache (Zen 4, one core, 2560 x 650: 1.05-1.5 against 0.29-0.35
     * ms) and 1.3 times where they come from memory (1.45-1.6 against 1.16).
     */
    static void packTransposed(MemorySegment w1, int k1, MemorySegment w2, int k2, int n, float[] packed, int p0,
                               int p1) {
        int k = k1 + k2;
        for (int j = p0; j < p1; j++) {
            int base = j * NR * k;
            for (int c0 = j * NR; c0 < (j + 1) * NR; c0 += TRANSPOSE_ROWS) {
                int at = base + c0 - j * NR; // the group's first column within the panel, in packed row 0
                if (c0 + TRANSPOSE_ROWS <= n) {
                    transposeBlocks(w1, c0, k1, packed, at);
                    if (k2 > 0) {
                        transposeBlocks(w2, c0, k2, packed, at + k1 * NR);
                    }
                } else {
                    // the last panel's columns past n: the few weights left one at a time, then zeros
                    for (int c = c0; c < c0 + TRANSPOSE_ROWS; c++) {
                        for (int kk = 0; kk < k; kk++) {
                            float v = c >= n ? 0f : kk < k1 ? w1.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * k1 + kk)
                                    : w2.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * k2 + kk - k1);
                            packed[at + kk * NR + c - c0] = v;
                        }
                    }
                }
            }
        }
    }

    private static int[] transposeIndices(boolean low) {
        int[] indices = new int[3 * TRANSPOSE_ROWS];
        for (int s = 0; s < 3; s++) {
            int bit = 4 >> s;
            for (int c = 0; c < TRANSPOSE_ROWS; c++) {
                boolean clear = (c & bit) == 0;
                indices[s * TRANSPOSE_ROWS + c] = low ? (clear ? c : 8 + (c ^ bit)) : (clear ? c ^ bit : 8 + c);
            }
        }
        return indices;
    }

    /**
     * Rows c0..c0+7 of W [*, kw] (row-major) into packed rows at, at + NR, ... (kw of them), 8 floats each: packed[at
     * + kk * NR + c] = W[c0 + c, kk]. Whole blocks of 8 k in registers, as ints (a float's bits, unchanged), the last
     * kw mod 8 one float at a time.
     */
    private static void transposeBlocks(MemorySegment w, int c0, int kw, float[] packed, int at) {
        long rowBytes = (long) kw * Float.BYTES;
        long row0 = (long) c0 * rowBytes;
        int whole = kw - kw % TRANSPOSE_ROWS;
        for (int k0 = 0; k0 < whole; k0 += TRANSPOSE_ROWS) {
            long from = row0 + (long) k0 * Float.BYTES;
            IntVector r0 = IntVector.fromMemorySegment(BLOCK, w, from, ORDER);
            IntVector r1 = IntVector.fromMemorySegment(BLOCK, w, from + rowBytes, ORDER);
            IntVector r2 = IntVector.fromMemorySegment(BLOCK, w, from + 2 * rowBytes, ORDER);
            IntVector r3 = IntVector.fromMemorySegment(BLOCK, w, from + 3 * rowBytes, ORDER);
            IntVector r4 = IntVector.fromMemorySegment(BLOCK, w, from + 4 * rowBytes, ORDER);
            IntVector r5 = IntVector.fromMemorySegment(BLOCK, w, from + 5 * rowBytes, ORDER);
            IntVector r6 = IntVector.fromMemorySegment(BLOCK, w, from + 6 * rowBytes, ORDER);
            IntVector r7 = IntVector.fromMemorySegment(BLOCK, w, from + 7 * rowBytes, ORDER);
            IntVector low = IntVector.fromArray(BLOCK, LOW, 0);
            IntVector high = IntVector.fromArray(BLOCK, HIGH, 0);
            IntVector s0 = low.selectFrom(r0, r4);
            IntVector s4 = high.selectFrom(r0, r4);
            IntVector s1 = low.selectFrom(r1, r5);
            IntVector s5 = high.selectFrom(r1, r5);
            IntVector s2 = low.selectFrom(r2, r6);
            IntVector s6 = high.selectFrom(r2, r6);
            IntVector s3 = low.selectFrom(r3, r7);
            IntVector s7 = high.selectFrom(r3, r7);
            low = IntVector.fromArray(BLOCK, LOW, TRANSPOSE_ROWS);
            high = IntVector.fromArray(BLOCK, HIGH, TRANSPOSE_ROWS);
            r0 = low.selectFrom(s0, s2);
            r2 = high.selectFrom(s0, s2);
            r1 = low.selectFrom(s1, s3);
            r3 = high.selectFrom(s1, s3);
            r4 = low.selectFrom(s4, s6);
            r6 = high.selectFrom(s4, s6);
            r5 = low.selectFrom(s5, s7);
            r7 = high.selectFrom(s5, s7);
            low = IntVector.fromArray(BLOCK, LOW, 2 * TRANSPOSE_ROWS);
            high = IntVector.fromArray(BLOCK, HIGH, 2 * TRANSPOSE_ROWS);
            int to = at + k0 * NR;
            low.selectFrom(r0, r1).reinterpretAsFloats().intoArray(packed, to);
            high.selectFrom(r0, r1).reinterpretAsFloats().intoArray(packed, to + NR);
            low.selectFrom(r2, r3).reinterpretAsFloats().intoArray(packed, to + 2 * NR);
            high.selectFrom(r2, r3).reinterpretAsFloats().intoArray(packed, to + 3 * NR);
            low.selectFrom(r4, r5).reinterpretAsFloats().intoArray(packed, to + 4 * NR);
            high.selectFrom(r4, r5).reinterpretAsFloats().intoArray(packed, to + 5 * NR);
            low.selectFrom(r6, r7).reinterpretAsFloats().intoArray(packed, to + 6 * NR);
            high.selectFrom(r6, r7).reinterpretAsFloats().intoArray(packed, to + 7 * NR);
        }
        for (int kk = whole; kk < kw; kk++) {
            for (int c = 0; c < TRANSPOSE_ROWS; c++) {
                packed[at + kk * NR + c] = w.getAtIndex(ValueLayout.JAVA_FLOAT, (c0 + c) * (long) kw + kk);
            }
        }
    }

    /**
     * Packs panels p0..p1-1 of B = [W1 W2], k rows and n1 + n2 columns, from W1 [k, n1] and W2 [k, n2] row-major
     * (W_hh alone in backward's dA W_hh, or W_ih beside W_hh in the fused dA [W_ih W_hh]). W2 may be null with
     * n2 = 0. Columns past n1 + n2 are zero.
     */
    static void packPlain(MemorySegment w1, int n1, MemorySegment w2, int n2, int k, float[] packed, int p0, int p1) {
        packPlain(w1, n1, w2, n2, k, packed, p0, p1, 0, k);
    }

    /** {@link #packPlain} for B's rows k0..k1-1 only (of k). */
    static void packPlain(MemorySegment w1, int n1, MemorySegment w2, int n2, int k, float[] packed, int p0, int p1,
                          int k0, int k1) {
        for (int j = p0; j < p1; j++) {
            int base = j * NR * k;
            int col0 = j * NR;
            // this panel's columns: [col0, a) from W1, [a, b) from W2, [b, col0 + NR) zero
            int a = Math.min(Math.max(col0, n1), col0 + NR);
            int b = Math.min(Math.max(col0, n1 + n2), col0 + NR);
            // a panel from one matrix, its last columns zero where that matrix ends: two vectors a row, where a
            // MemorySegment.copy per row spent most of its time in the copy's own checks (whole panels, H = 200,
            // one core, hot: 24.6 -> 15.8 us; ptb-small training: 3.9 -> 2.3 % of the samples)
            boolean fromW1 = b == a && a > col0;
            boolean fromW2 = a == col0 && b > a;
            if (fromW1 || fromW2) {
                MemorySegment w = fromW1 ? w1 : w2;
                int cols = fromW1 ? a - col0 : b - a;
                long rowBytes = (long) (fromW1 ? n1 : n2) * Float.BYTES;
                long at = (long) (fromW1 ? col0 : col0 - n1) * Float.BYTES + k0 * rowBytes;
                packRows(w, at, rowBytes, cols, k1 - k0, packed, base + k0 * NR);
                continue;
            }
            for (int kk = k0; kk < k1; kk++) {
                int at = base + kk * NR;
                if (a > col0) {
                    MemorySegment.copy(w1, ValueLayout.JAVA_FLOAT, ((long) kk * n1 + col0) * Float.BYTES, packed, at,
                            a - col0);
                }
                if (b > a) {
                    MemorySegment.copy(w2, ValueLayout.JAVA_FLOAT, ((long) kk * n2 + a - n1) * Float.BYTES, packed,
                            at + a - col0, b - a);
                }
                Arrays.fill(packed, at + b - col0, at + NR, 0f);
            }
        }
    }

    /**
     * k rows of cols <= NR floats, row kk at byte at + kk * rowBytes of w, into packed [k][NR] from base, zeros
     * after them. A partial row is read as two whole vectors, its neighbour's floats blended to zero; the last rows,
     * where two whole vectors would read past w's end, go through a copy.
     */
    private static void packRows(MemorySegment w, long at, long rowBytes, int cols, int k, float[] packed, int base) {
        long half = (long) LANES * Float.BYTES;
        VectorMask<Float> keep0 = S.indexInRange(0, cols); // all lanes for a whole panel
        VectorMask<Float> keep1 = S.indexInRange(LANES, cols);
        FloatVector zero = FloatVector.zero(S);
        int kk = 0;
        for (; kk < k && at + 2 * half <= w.byteSize(); kk++, at += rowBytes) {
            int to = base + kk * NR;
            zero.blend(FloatVector.fromMemorySegment(S, w, at, ORDER), keep0).intoArray(packed, to);
            zero.blend(FloatVector.fromMemorySegment(S, w, at + half, ORDER), keep1).intoArray(packed, to + LANES);
        }
        for (; kk < k; kk++, at += rowBytes) {
            int to = base + kk * NR;
            MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, at, packed, to, cols);
            Arrays.fill(packed, to + cols, to + NR, 0f);
        }
    }

    /**
     * Columns of panels p0..p1-1 of C [m, n] (at cOff, leading dimension ldc) = A [m, k] (at aOff, leading
     * dimension lda) times the packed B [k, n]; added to C when {@code accumulate}.
     */
    static void multiply(int m, int n, int k, float[] a, int aOff, int lda, float[] packed, boolean accumulate,
                         MemorySegment c, long cOff, int ldc, int p0, int p1) {
        multiply(KC, m, n, k, a, aOff, lda, packed, accumulate, c, cOff, ldc, p0, p1);
    }

    /** {@link #multiply} in slabs of at most kc rows of k (0: one slab), whatever this machine's {@link #KC}. */
    static void multiply(int kc, int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                         boolean accumulate, MemorySegment c, long cOff, int ldc, int p0, int p1) {
        multiplySlab(kc, 0, k, m, n, k, a, aOff, lda, packed, accumulate, c, cOff, ldc, p0, p1);
    }

    /**
     * {@link #multiply} with only B's first {@code depth} rows (of k packed): A [m, depth], the rest of B's rows
     * taken as multiplied by zeros. A fused step from a zero state ([x_t 0] [W_ih W_hh]^T) is x_t W_ih^T.
     */
    static void multiplyFirstRows(int depth, int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                                  boolean accumulate, MemorySegment c, long cOff, int ldc, int p0, int p1) {
        multiplySlab(KC, 0, depth, m, n, k, a, aOff, lda, packed, accumulate, c, cOff, ldc, p0, p1);
    }

    /**
     * {@link #multiply} with B's rows k0..k0+depth-1 (of k packed) only: A [m, depth] holds the matching columns of
     * the whole A. A product whose k is cut in slabs, each slab's rows of A small enough for L2, adds its slabs up
     * with {@code accumulate} after the first.
     */
    static void multiplySlab(int k0, int depth, int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                             boolean accumulate, MemorySegment c, long cOff, int ldc, int p0, int p1) {
        multiplySlab(KC, k0, depth, m, n, k, a, aOff, lda, packed, accumulate, c, cOff, ldc, p0, p1);
    }

    private static void multiplySlab(int kc, int k0, int depth, int m, int n, int k, float[] a, int aOff, int lda,
                                     float[] packed, boolean accumulate, MemorySegment c, long cOff, int ldc, int p0,
                                     int p1) {
        if (m < 0 || n < 0 || k0 < 0 || depth < 1 || k0 + depth > k || p0 < 0 || p1 > panels(n) || lda < depth
                || ldc < n) {
            throw new IllegalArgumentException("packed gemm: m " + m + ", n " + n + ", rows " + k0 + ".." + (k0 + depth)
                    + " of k " + k + ", lda " + lda + ", ldc " + ldc + ", panels " + p0 + ".." + p1);
        }
        requireOperands(m, n, depth, a, aOff, lda, packed, packedSize(k, n));
        int j = p0;
        if (MR == 8) {
            for (; j + 1 < p1; j += 2) {
                panelPair(kc, m, depth, a, aOff, lda, packed, j * NR * k + k0 * NR, (j + 1) * NR * k + k0 * NR,
                        accumulate, c, cOff + (long) j * NR, ldc);
            }
        }
        for (; j < p1; j++) {
            panel(kc, m, depth, a, aOff, lda, packed, j * NR * k + k0 * NR, accumulate, c, cOff + (long) j * NR, ldc);
        }
    }

    /**
     * B's zero-padded last panel (packed with {@link #coveredSize}) over its rows k0..k0+depth-1, as
     * {@link #multiplySlab}: scratch [m, NR] (at float offset scratchOff) = A [m, depth] times that slab of the
     * panel. The caller takes the n mod NR columns it needs out of scratch. Does nothing when n is a multiple of NR.
     */
    static void lastPanelSlab(int k0, int depth, int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                              MemorySegment scratch, long scratchOff) {
        if (m < 0 || n < 0 || k0 < 0 || depth < 1 || k0 + depth > k || lda < depth) {
            throw new IllegalArgumentException("packed gemm: m " + m + ", n " + n + ", rows " + k0 + ".." + (k0 + depth)
                    + " of k " + k + ", lda " + lda);
        }
        if (n % NR == 0 || m == 0) {
            return;
        }
        requireOperands(m, n, depth, a, aOff, lda, packed, coveredSize(k, n));
        if (scratchOff < 0 || scratch.byteSize() < (scratchOff + (long) m * NR) * Float.BYTES) {
            throw new IndexOutOfBoundsException("packed gemm scratch: needs " + m + "x" + NR + " floats at "
                    + scratchOff + ", has " + scratch.byteSize() / Float.BYTES);
        }
        panel(KC, m, depth, a, aOff, lda, packed, panels(n) * NR * k + k0 * NR, false, scratch, scratchOff, NR);
    }

    /**
     * The last n mod NR columns of C [m, n] = A [m, k] times B (not added to C), from B's zero-padded last panel
     * (packed with {@link #coveredSize}): computed whole into scratch ([m, NR] floats at float offset scratchOff)
     * and copied out, so that no store runs past C's row. Does nothing when n is a multiple of NR.
     */
    static void multiplyLastPanel(int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                                  MemorySegment c, long cOff, int ldc, MemorySegment scratch, long scratchOff) {
        multiplyLastPanelFirstRows(k, m, n, k, a, aOff, lda, packed, c, cOff, ldc, scratch, scratchOff);
    }

    /** {@link #multiplyLastPanel} with only B's first {@code depth} rows, as {@link #multiplyFirstRows}. */
    static void multiplyLastPanelFirstRows(int depth, int m, int n, int k, float[] a, int aOff, int lda,
                                           float[] packed, MemorySegment c, long cOff, int ldc,
                                           MemorySegment scratch, long scratchOff) {
        if (ldc < n) {
            throw new IllegalArgumentException("packed gemm: n " + n + ", ldc " + ldc);
        }
        lastPanelSlab(0, depth, m, n, k, a, aOff, lda, packed, scratch, scratchOff);
        if (n % NR != 0 && m > 0) {
            copyLastPanel(scratch, scratchOff, c, cOff, ldc, 0, m, panels(n), n % NR);
        }
    }

    /**
     * One product of {@link #multiplyTransposed}: C [m, n] at cOff (floats, leading dimension ldc) = S^T B, with B
     * [k, n] packed by {@link #packPlain} into covering panels ({@link #coveredSize}). Its zero-padded last panel,
     * where n is not a multiple of {@link #NR}, goes through scratch [r1 - r0, NR] at scratchOff (floats), so that
     * no store runs past C's row.
     */
    record Product(float[] packed, int n, MemorySegment c, long cOff, int ldc, MemorySegment scratch,
                   long scratchOff) {}

    /** Floats of the buffer that {@link #multiplyTransposed} packs S^T into, for S of k rows (at most 512 KiB). */
    static int transposedBufferSize(int k) {
        return transposedBufferSize(ROW_BLOCK_KC, k);
    }

    /** {@link #transposedBufferSize(int)} for slabs of at most kc rows of k (0: one slab). */
    static int transposedBufferSize(int kc, int k) {
        return ROW_CHUNK * (kc == 0 ? k : Math.min(k, kc));
    }

    /**
     * Rows r0..r1-1 of each product's C = S^T B, not added to C, for the weight gradients dA^T X and dA^T H: S [k, m]
     * is row-major at sOff with leading dimension lds (floats); A = S^T needs no transposed copy of S. k
     * goes in slabs of at most {@link #ROW_BLOCK_KC} rows; within a slab, chunk by chunk of {@link #ROW_CHUNK} rows
     * of A, the chunk is packed into row blocks ([depth][MR] each, read from S's rows MR floats at a time) in buffer
     * ({@link #transposedBufferSize} floats, one per thread), which L2 keeps while every panel of every product
     * passes over it. So S is read from memory once, whatever the number of panels (panel by panel over all of A,
     * large-batch's 52 MB of dA streamed from memory once per panel, 11 % slower than OpenBLAS on 2 threads), and no
     * packed copy of S outlives the call. r0 and r1 are multiples of {@link #MR}.
     */
    static void multiplyTransposed(MemorySegment s, long sOff, int lds, int k, int r0, int r1, float[] buffer,
                                   Product... products) {
        multiplyTransposed(ROW_BLOCK_KC, s, sOff, lds, k, r0, r1, buffer, products);
    }

    /** {@link #multiplyTransposed} in slabs of at most kc rows of k (0: one slab). */
    static void multiplyTransposed(int kc, MemorySegment s, long sOff, int lds, int k, int r0, int r1,
                                   float[] buffer, Product... products) {
        requireTransposed(kc, s, sOff, lds, k, r0, r1, buffer, products);
        int slab = slab(k, kc);
        for (int k0 = 0; k0 < k; k0 += slab) {
            int depth = Math.min(slab, k - k0);
            boolean add = k0 > 0; // the first slab starts from zero, the others add to C
            for (int chunk = r0; chunk < r1; chunk += ROW_CHUNK) {
                int chunkEnd = Math.min(r1, chunk + ROW_CHUNK);
                packChunk(s, sOff + (long) k0 * lds, lds, depth, chunk, chunkEnd, buffer);
                for (Product q : products) {
                    int whole = panels(q.n);
                    chunkPanels(depth, k, k0, add, buffer, chunk, chunkEnd, q.packed, 0, whole, q.c, q.cOff, q.ldc);
                    if (whole * NR < q.n) {
                        // scratch row i holds C's row r0 + i from column 0: the offset takes r0 rows and the
                        // panel's own columns back out
                        chunkPanels(depth, k, k0, add, buffer, chunk, chunkEnd, q.packed, whole, whole + 1,
                                q.scratch, q.scratchOff - (long) r0 * NR - (long) whole * NR, NR);
                    }
                }
            }
        }
        for (Product q : products) {
            int whole = panels(q.n);
            if (whole * NR < q.n) {
                copyLastPanel(q.scratch, q.scratchOff, q.c, q.cOff, q.ldc, r0, r1, whole, q.n - whole * NR);
            }
        }
    }

    /** A's rows chunk..chunkEnd-1 (S's columns) at S's rows 0..depth-1 from sOff into row blocks in buffer. */
    private static void packChunk(MemorySegment s, long sOff, int lds, int depth, int chunk, int chunkEnd,
                                  float[] buffer) {
        long rowBytes = (long) lds * Float.BYTES;
        for (int kk = 0; kk < depth; kk++) { // S row by row, each into every block's column kk
            long at = (sOff + chunk) * Float.BYTES + kk * rowBytes;
            for (int r = 0; r < chunkEnd - chunk; r += MR, at += (long) MR * Float.BYTES) {
                FloatVector.fromMemorySegment(BLOCK_COLUMN, s, at, ORDER).intoArray(buffer, r * depth + kk * MR);
            }
        }
    }

    /**
     * Panels p0..p1-1 of C's rows chunk..chunkEnd-1 for one slab (B's rows k0..k0 + depth - 1) from the chunk's row
     * blocks in buffer; C's panel j at cOff + j * NR.
     */
    private static void chunkPanels(int depth, int k, int k0, boolean add, float[] buffer, int chunk, int chunkEnd,
                                    float[] packed, int p0, int p1, MemorySegment c, long cOff, int ldc) {
        MemorySegment init = add ? c : ZERO_PANEL;
        for (int j = p0; j < p1; j++) {
            int b0 = j * NR * k + k0 * NR;
            long cAt = cOff + (long) j * NR;
            for (int r = chunk; r < chunkEnd; r += MR) {
                long at = cAt + (long) r * ldc;
                int a0 = (r - chunk) * depth; // the block's rows one float apart, its columns MR apart
                if (MR == 8) {
                    block8(depth, buffer, a0, 1, MR, packed, b0, init, add ? at : 0, add ? ldc : 0, c, at, ldc);
                } else {
                    NarrowBlocks.fourBlockedRows(depth, buffer, a0, packed, b0, init, add ? at : 0, add ? ldc : 0, c,
                            at, ldc);
                }
            }
        }
    }

    private static void requireTransposed(int kc, MemorySegment s, long sOff, int lds, int k, int r0, int r1,
                                          float[] buffer, Product... products) {
        if (r0 < 0 || r0 > r1 || r0 % MR != 0 || r1 % MR != 0 || lds < r1 || k < 1 || sOff < 0) {
            throw new IllegalArgumentException("transposed gemm: rows " + r0 + ".." + r1 + " (multiples of " + MR
                    + "), lds " + lds + ", k " + k + ", sOff " + sOff);
        }
        if (s.byteSize() < (sOff + (long) (k - 1) * lds + r1) * Float.BYTES) {
            throw new IndexOutOfBoundsException("transposed gemm S: " + k + "x" + r1 + " (ld " + lds + ") at " + sOff
                    + " needs more than the segment's " + s.byteSize() / Float.BYTES + " floats");
        }
        if (buffer.length < transposedBufferSize(kc, k)) {
            throw new IndexOutOfBoundsException("transposed gemm buffer: needs " + transposedBufferSize(kc, k)
                    + " floats, got " + buffer.length);
        }
        for (Product q : products) {
            if (q.n < 1 || q.ldc < q.n || q.cOff < 0
                    || q.c.byteSize() < (q.cOff + (long) (r1 - 1) * q.ldc + q.n) * Float.BYTES) {
                throw new IndexOutOfBoundsException("transposed gemm C: rows .." + r1 + " of " + q.n + " (ld "
                        + q.ldc + ") at " + q.cOff + " need more than the segment's " + q.c.byteSize() / Float.BYTES
                        + " floats");
            }
            if (q.packed.length < coveredSize(k, q.n)) {
                throw new IndexOutOfBoundsException("transposed gemm B: " + k + "x" + q.n + " needs "
                        + coveredSize(k, q.n) + " packed floats, got " + q.packed.length);
            }
            boolean partial = panels(q.n) * NR < q.n;
            if (partial && (q.scratchOff < 0
                    || q.scratch.byteSize() < (q.scratchOff + (long) (r1 - r0) * NR) * Float.BYTES)) {
                throw new IndexOutOfBoundsException("transposed gemm scratch: needs " + (r1 - r0) + "x" + NR
                        + " floats at " + q.scratchOff + ", has " + q.scratch.byteSize() / Float.BYTES);
            }
        }
    }

    /** Rows of k per slab: k split evenly into slabs of at most kc rows (0: one slab). */
    private static int slab(int k, int kc) {
        int slabs = kc == 0 ? 1 : (k + kc - 1) / kc;
        return (k + slabs - 1) / slabs;
    }

    /** Copies columns j * NR .. j * NR + cols - 1 of C's rows r0..r1-1 out of scratch [r1 - r0, NR] at scratchOff. */
    private static void copyLastPanel(MemorySegment scratch, long scratchOff, MemorySegment c, long cOff, int ldc,
                                      int r0, int r1, int j, int cols) {
        for (int r = r0; r < r1; r++) {
            MemorySegment.copy(scratch, (scratchOff + (long) (r - r0) * NR) * Float.BYTES, c,
                    (cOff + (long) r * ldc + j * NR) * Float.BYTES, (long) cols * Float.BYTES);
        }
    }

    private static void requireOperands(int m, int n, int k, float[] a, int aOff, int lda, float[] packed,
                                        int packedFloats) {
        if (m > 0 && (aOff < 0 || aOff + (long) (m - 1) * lda + k > a.length)) {
            throw new IndexOutOfBoundsException("packed gemm A: " + m + "x" + k + " (ld " + lda + ") at " + aOff
                    + " needs more than the array's " + a.length + " floats");
        }
        if (packed.length < packedFloats) {
            throw new IndexOutOfBoundsException("packed gemm B: " + k + "x" + n + " needs " + packedFloats
                    + " packed floats, got " + packed.length);
        }
    }

    /** One panel (packed at bBase) of C's columns starting at cAt: every row block, slab by slab of k. */
    private static void panel(int kc, int m, int k, float[] a, int aOff, int lda, float[] packed, int bBase,
                              boolean accumulate, MemorySegment c, long cAt, int ldc) {
        int slab = slab(k, kc);
        for (int k0 = 0; k0 < k; k0 += slab) {
            int depth = Math.min(slab, k - k0); // this slab's rows of k
            int b0 = bBase + k0 * NR;
            // the accumulators start from C itself, or from the zero panel (row stride 0) on a first slab
            boolean add = accumulate || k0 > 0;
            MemorySegment init = add ? c : ZERO_PANEL;
            int r = 0;
            if (MR == 8) {
                for (; r + 8 <= m; r += 8) {
                    long at = cAt + (long) r * ldc;
                    block8(depth, a, aOff + r * lda + k0, lda, 1, packed, b0, init, add ? at : 0, add ? ldc : 0, c,
                            at, ldc);
                }
            } else { // 256-bit vectors: blocks of 6 rows (NarrowBlocks), then of 4
                for (int end = 6 * NarrowBlocks.sixRowBlocks(m); r < end; r += 6) {
                    long at = cAt + (long) r * ldc;
                    NarrowBlocks.sixRows(depth, a, aOff + r * lda + k0, lda, packed, b0, init, add ? at : 0,
                            add ? ldc : 0, c, at, ldc);
                }
            }
            for (; r + 4 <= m; r += 4) {
                long at = cAt + (long) r * ldc;
                block4(depth, a, aOff + r * lda + k0, lda, packed, b0, init, add ? at : 0, add ? ldc : 0, c, at, ldc);
            }
            for (; r < m; r++) {
                long at = cAt + (long) r * ldc;
                block1(depth, a, aOff + r * lda + k0, packed, b0, init, add ? at : 0, c, at);
            }
        }
    }

    /**
     * Two adjacent panels (packed at bBase0 and bBase1) of C's columns starting at cAt, 2 NR of them.
     *
     * <p>A product from zero in one slab of k (a fused step, a projection) whose m is not a multiple of 5 takes
     * every row over both panels: m mod 5 blocks of 6 rows ({@link #block6}) and the rest in blocks of 5, where
     * m >= 6 (m mod 5). The 4-row blocks that 5-row blocks leave of 64 rows had run at 0.7 times block5's rate
     * (6.2 % of seed-mnist's inference samples for 1/16 of its rows). Time with over time without, 2 threads,
     * alternating 1-s blocks in one JVM, both orders: seed-mnist inference 0.980 and 0.992, training 0.930 and
     * 0.953; large-batch inference 0.985 and 0.985; ptb-medium inference (20 rows a step: the path below)
     * 0.978 and 1.011.
     *
     * <p>Otherwise the rows that 5-row blocks leave over first, each panel on its own ({@link #panel}), then the
     * rest in blocks of 5 rows over both panels at once ({@link #block5}), in slabs of k as deep as a panel's, though
     * two panels' slab may then not fit in L1: each slab costs every block its accumulators' loads and stores, and
     * slabs of at most 128 had split seed-mnist's k of 156 in two (one core: the fused step's [64 x 156] x
     * [156 x 512] 229 -> 238 GFLOP/s in one slab; [20 x 650] x [650 x 1300] 1.03 times as fast in 5 slabs as in 6;
     * 160 or 256 deep, level). The 5- and 6-row blocks have loops of their own, so that no method holds them beside
     * the other kernels.
     */
    private static void panelPair(int kc, int m, int k, float[] a, int aOff, int lda, float[] packed, int bBase0,
                                  int bBase1, boolean accumulate, MemorySegment c, long cAt, int ldc) {
        int sixes = m % 5; // 6-row blocks that leave a multiple of 5 rows
        if (sixes > 0 && !accumulate && slab(k, kc) == k && 6 * sixes <= m) {
            int r = 0;
            for (; r < 6 * sixes; r += 6) {
                block6(k, a, aOff + r * lda, lda, packed, bBase0, bBase1, c, cAt + (long) r * ldc, ldc);
            }
            for (; r < m; r += 5) {
                block5(k, a, aOff + r * lda, lda, packed, bBase0, bBase1, ZERO_PAIR, 0, 0, c,
                        cAt + (long) r * ldc, ldc);
            }
            return;
        }
        // 4, 8, 12 or 16 rows, whichever leaves a multiple of 5 (blocks of 8 and 4, no single rows); fewer rows than
        // that: m mod 5 single rows
        int lead = (5 - m % 5) % 5 * 4;
        if (lead > m) lead = m % 5;
        if (lead > 0) {
            panel(kc, lead, k, a, aOff, lda, packed, bBase0, accumulate, c, cAt, ldc);
            panel(kc, lead, k, a, aOff, lda, packed, bBase1, accumulate, c, cAt + NR, ldc);
        }
        int slab = slab(k, kc);
        for (int k0 = 0; k0 < k; k0 += slab) {
            int depth = Math.min(slab, k - k0);
            boolean add = accumulate || k0 > 0;
            MemorySegment init = add ? c : ZERO_PAIR;
            for (int r = lead; r + 5 <= m; r += 5) {
                long at = cAt + (long) r * ldc;
                block5(depth, a, aOff + r * lda + k0, lda, packed, bBase0 + k0 * NR, bBase1 + k0 * NR, init,
                        add ? at : 0, add ? ldc : 0, c, at, ldc);
            }
        }
    }

    /*
     * C[rows, NR] (at float offset c0, leading dimension ldc) = INIT + A[rows, k] B-panel[k, NR], where INIT is read
     * from init at i0 with leading dimension ldi (C itself to accumulate; the zero panel with ldi 0 otherwise).
     *
     * The micro-kernels keep every vector inside one method: a vector passed to (or returned from) a call that C2
     * does not inline must be a heap object, and C2 then boxes the loop-carried accumulators at every FMA (measured:
     * 360 KB per time step, 5-8x slower, in the runs where a store helper had been compiled on its own first and
     * was then too big to inline). They have no branch: accumulators chosen by a branch (a vector phi) made the loop
     * 25 % slower, and a branch in the epilogue doubled its stores and made C1 give up on block8 ("out of virtual
     * registers"), which then never reached C2 and ran 100x slow. Each row's addresses are computed once, outside the
     * loop.
     *
     * block8's A element (r, kk) is at a0 + r * lda + kk * aStep: aStep = 1 for rows of A (panel), MR for
     * row-blocked A (chunkPanels, lda = 1). With the step a constant 1 (a[a0 + kk]), C2 (JDK 25) compiles a loop that
     * runs 4-15 % slower on Zen 4 (same JVM, alternating: [20 x 650] x [650 x 2592] 87-93 against 102-103 GFLOP/s,
     * [20 x 200] x [200 x 800] 107 against 111, [64 x 128] x [128 x 512] 106 against 111, block4 alone at
     * [4 x 650] x [650 x 2592] 102 against 105; one core's peak is 117). The other blocks only ever read rows of A and
     * take the constant step: on Zen 5 it measured level with a passed one (the pair blocks, 0.997-1.022), and on
     * Zen 3 (AVX2) the passed one ran at 0.64-0.79 of it (see {@link NarrowBlocks}), where block4 takes most rows
     * that 6-row blocks leave; with AVX-512 block4 takes at most one block of a panel's rows, those 8-row blocks
     * leave.
     */
    private static void block8(int k, float[] a, int a0, int lda, int aStep, float[] b, int b0, MemorySegment init,
                               long i0, int ldi, MemorySegment c, long c0, int ldc) {
        long ld = (long) ldc * Float.BYTES;
        long li = (long) ldi * Float.BYTES;
        long half = (long) LANES * Float.BYTES;
        long r0 = c0 * Float.BYTES;
        long s0 = i0 * Float.BYTES;
        long r1 = r0 + ld;
        long s1 = s0 + li;
        long r2 = r1 + ld;
        long s2 = s1 + li;
        long r3 = r2 + ld;
        long s3 = s2 + li;
        long r4 = r3 + ld;
        long s4 = s3 + li;
        long r5 = r4 + ld;
        long s5 = s4 + li;
        long r6 = r5 + ld;
        long s6 = s5 + li;
        long r7 = r6 + ld;
        long s7 = s6 + li;
        FloatVector c00 = FloatVector.fromMemorySegment(S, init, s0, ORDER);
        FloatVector c01 = FloatVector.fromMemorySegment(S, init, s0 + half, ORDER);
        FloatVector c10 = FloatVector.fromMemorySegment(S, init, s1, ORDER);
        FloatVector c11 = FloatVector.fromMemorySegment(S, init, s1 + half, ORDER);
        FloatVector c20 = FloatVector.fromMemorySegment(S, init, s2, ORDER);
        FloatVector c21 = FloatVector.fromMemorySegment(S, init, s2 + half, ORDER);
        FloatVector c30 = FloatVector.fromMemorySegment(S, init, s3, ORDER);
        FloatVector c31 = FloatVector.fromMemorySegment(S, init, s3 + half, ORDER);
        FloatVector c40 = FloatVector.fromMemorySegment(S, init, s4, ORDER);
        FloatVector c41 = FloatVector.fromMemorySegment(S, init, s4 + half, ORDER);
        FloatVector c50 = FloatVector.fromMemorySegment(S, init, s5, ORDER);
        FloatVector c51 = FloatVector.fromMemorySegment(S, init, s5 + half, ORDER);
        FloatVector c60 = FloatVector.fromMemorySegment(S, init, s6, ORDER);
        FloatVector c61 = FloatVector.fromMemorySegment(S, init, s6 + half, ORDER);
        FloatVector c70 = FloatVector.fromMemorySegment(S, init, s7, ORDER);
        FloatVector c71 = FloatVector.fromMemorySegment(S, init, s7 + half, ORDER);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        int a6 = a5 + lda;
        int a7 = a6 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            int ak = kk * aStep;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + ak]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + ak]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + ak]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + ak]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + ak]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + ak]);
            c50 = w0.fma(x5, c50);
            c51 = w1.fma(x5, c51);
            FloatVector x6 = FloatVector.broadcast(S, a[a6 + ak]);
            c60 = w0.fma(x6, c60);
            c61 = w1.fma(x6, c61);
            FloatVector x7 = FloatVector.broadcast(S, a[a7 + ak]);
            c70 = w0.fma(x7, c70);
            c71 = w1.fma(x7, c71);
        }
        c00.intoMemorySegment(c, r0, ORDER);
        c01.intoMemorySegment(c, r0 + half, ORDER);
        c10.intoMemorySegment(c, r1, ORDER);
        c11.intoMemorySegment(c, r1 + half, ORDER);
        c20.intoMemorySegment(c, r2, ORDER);
        c21.intoMemorySegment(c, r2 + half, ORDER);
        c30.intoMemorySegment(c, r3, ORDER);
        c31.intoMemorySegment(c, r3 + half, ORDER);
        c40.intoMemorySegment(c, r4, ORDER);
        c41.intoMemorySegment(c, r4 + half, ORDER);
        c50.intoMemorySegment(c, r5, ORDER);
        c51.intoMemorySegment(c, r5 + half, ORDER);
        c60.intoMemorySegment(c, r6, ORDER);
        c61.intoMemorySegment(c, r6 + half, ORDER);
        c70.intoMemorySegment(c, r7, ORDER);
        c71.intoMemorySegment(c, r7 + half, ORDER);
    }

    private static void block4(int k, float[] a, int a0, int lda, float[] b, int b0, MemorySegment init, long i0,
                               int ldi, MemorySegment c, long c0, int ldc) {
        long ld = (long) ldc * Float.BYTES;
        long li = (long) ldi * Float.BYTES;
        long half = (long) LANES * Float.BYTES;
        long r0 = c0 * Float.BYTES;
        long s0 = i0 * Float.BYTES;
        long r1 = r0 + ld;
        long s1 = s0 + li;
        long r2 = r1 + ld;
        long s2 = s1 + li;
        long r3 = r2 + ld;
        long s3 = s2 + li;
        FloatVector c00 = FloatVector.fromMemorySegment(S, init, s0, ORDER);
        FloatVector c01 = FloatVector.fromMemorySegment(S, init, s0 + half, ORDER);
        FloatVector c10 = FloatVector.fromMemorySegment(S, init, s1, ORDER);
        FloatVector c11 = FloatVector.fromMemorySegment(S, init, s1 + half, ORDER);
        FloatVector c20 = FloatVector.fromMemorySegment(S, init, s2, ORDER);
        FloatVector c21 = FloatVector.fromMemorySegment(S, init, s2 + half, ORDER);
        FloatVector c30 = FloatVector.fromMemorySegment(S, init, s3, ORDER);
        FloatVector c31 = FloatVector.fromMemorySegment(S, init, s3 + half, ORDER);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
        }
        c00.intoMemorySegment(c, r0, ORDER);
        c01.intoMemorySegment(c, r0 + half, ORDER);
        c10.intoMemorySegment(c, r1, ORDER);
        c11.intoMemorySegment(c, r1 + half, ORDER);
        c20.intoMemorySegment(c, r2, ORDER);
        c21.intoMemorySegment(c, r2 + half, ORDER);
        c30.intoMemorySegment(c, r3, ORDER);
        c31.intoMemorySegment(c, r3 + half, ORDER);
    }

    private static void block1(int k, float[] a, int a0, float[] b, int b0, MemorySegment init, long i0,
                               MemorySegment c, long c0) {
        long half = (long) LANES * Float.BYTES;
        long r0 = c0 * Float.BYTES;
        long s0 = i0 * Float.BYTES;
        FloatVector c00 = FloatVector.fromMemorySegment(S, init, s0, ORDER);
        FloatVector c01 = FloatVector.fromMemorySegment(S, init, s0 + half, ORDER);
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
        }
        c00.intoMemorySegment(c, r0, ORDER);
        c01.intoMemorySegment(c, r0 + half, ORDER);
    }

    /**
     * 5 rows of C over two panels (b0, b1) at once: 20 accumulators, 5 broadcasts of A and 4 loads of B for 20 FMAs,
     * where {@link #block8} takes 8 and 2 for 16 (0.45 loads an FMA against 0.63). C's 2 NR columns of a row are
     * contiguous (the panels are adjacent). Not 6 rows (24 accumulators, 0.42) where the accumulators start from
     * C: C1 gave such a method up ("out of virtual registers in linear scan"), and until C2 compiled it, seconds
     * later, its tier-2 code, which keeps every vector on the heap, made seed-mnist inference 83-96 times slower.
     */
    private static void block5(int k, float[] a, int a0, int lda, float[] b, int b0, int b1,
                               MemorySegment init, long i0, int ldi, MemorySegment c, long c0, int ldc) {
        long ld = (long) ldc * Float.BYTES;
        long li = (long) ldi * Float.BYTES;
        long q1 = (long) LANES * Float.BYTES;
        long q2 = 2 * q1;
        long q3 = 3 * q1;
        long r0 = c0 * Float.BYTES;
        long s0 = i0 * Float.BYTES;
        long r1 = r0 + ld;
        long s1 = s0 + li;
        long r2 = r1 + ld;
        long s2 = s1 + li;
        long r3 = r2 + ld;
        long s3 = s2 + li;
        long r4 = r3 + ld;
        long s4 = s3 + li;
        FloatVector c00 = FloatVector.fromMemorySegment(S, init, s0, ORDER);
        FloatVector c01 = FloatVector.fromMemorySegment(S, init, s0 + q1, ORDER);
        FloatVector c02 = FloatVector.fromMemorySegment(S, init, s0 + q2, ORDER);
        FloatVector c03 = FloatVector.fromMemorySegment(S, init, s0 + q3, ORDER);
        FloatVector c10 = FloatVector.fromMemorySegment(S, init, s1, ORDER);
        FloatVector c11 = FloatVector.fromMemorySegment(S, init, s1 + q1, ORDER);
        FloatVector c12 = FloatVector.fromMemorySegment(S, init, s1 + q2, ORDER);
        FloatVector c13 = FloatVector.fromMemorySegment(S, init, s1 + q3, ORDER);
        FloatVector c20 = FloatVector.fromMemorySegment(S, init, s2, ORDER);
        FloatVector c21 = FloatVector.fromMemorySegment(S, init, s2 + q1, ORDER);
        FloatVector c22 = FloatVector.fromMemorySegment(S, init, s2 + q2, ORDER);
        FloatVector c23 = FloatVector.fromMemorySegment(S, init, s2 + q3, ORDER);
        FloatVector c30 = FloatVector.fromMemorySegment(S, init, s3, ORDER);
        FloatVector c31 = FloatVector.fromMemorySegment(S, init, s3 + q1, ORDER);
        FloatVector c32 = FloatVector.fromMemorySegment(S, init, s3 + q2, ORDER);
        FloatVector c33 = FloatVector.fromMemorySegment(S, init, s3 + q3, ORDER);
        FloatVector c40 = FloatVector.fromMemorySegment(S, init, s4, ORDER);
        FloatVector c41 = FloatVector.fromMemorySegment(S, init, s4 + q1, ORDER);
        FloatVector c42 = FloatVector.fromMemorySegment(S, init, s4 + q2, ORDER);
        FloatVector c43 = FloatVector.fromMemorySegment(S, init, s4 + q3, ORDER);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            int bj = b1 + kk * NR;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector w2 = FloatVector.fromArray(S, b, bj);
            FloatVector w3 = FloatVector.fromArray(S, b, bj + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            c02 = w2.fma(x0, c02);
            c03 = w3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            c12 = w2.fma(x1, c12);
            c13 = w3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            c22 = w2.fma(x2, c22);
            c23 = w3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
            c32 = w2.fma(x3, c32);
            c33 = w3.fma(x3, c33);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            c42 = w2.fma(x4, c42);
            c43 = w3.fma(x4, c43);
        }
        c00.intoMemorySegment(c, r0, ORDER);
        c01.intoMemorySegment(c, r0 + q1, ORDER);
        c02.intoMemorySegment(c, r0 + q2, ORDER);
        c03.intoMemorySegment(c, r0 + q3, ORDER);
        c10.intoMemorySegment(c, r1, ORDER);
        c11.intoMemorySegment(c, r1 + q1, ORDER);
        c12.intoMemorySegment(c, r1 + q2, ORDER);
        c13.intoMemorySegment(c, r1 + q3, ORDER);
        c20.intoMemorySegment(c, r2, ORDER);
        c21.intoMemorySegment(c, r2 + q1, ORDER);
        c22.intoMemorySegment(c, r2 + q2, ORDER);
        c23.intoMemorySegment(c, r2 + q3, ORDER);
        c30.intoMemorySegment(c, r3, ORDER);
        c31.intoMemorySegment(c, r3 + q1, ORDER);
        c32.intoMemorySegment(c, r3 + q2, ORDER);
        c33.intoMemorySegment(c, r3 + q3, ORDER);
        c40.intoMemorySegment(c, r4, ORDER);
        c41.intoMemorySegment(c, r4 + q1, ORDER);
        c42.intoMemorySegment(c, r4 + q2, ORDER);
        c43.intoMemorySegment(c, r4 + q3, ORDER);
    }

    /**
     * 6 rows of C = A B over two panels at once, from zero: 24 accumulators, 6 broadcasts and 4 loads for 24 FMAs
     * (0.42 loads an FMA). Its accumulators start as zero vectors, not from a segment: that is what lets C1 compile
     * a block of 24 (see {@link #block5}); checked with -XX:+PrintCompilation, tiers 2 and 3 both compile it.
     */
    private static void block6(int k, float[] a, int a0, int lda, float[] b, int b0, int b1, MemorySegment c,
                               long c0, int ldc) {
        long ld = (long) ldc * Float.BYTES;
        long q1 = (long) LANES * Float.BYTES;
        long q2 = 2 * q1;
        long q3 = 3 * q1;
        long r0 = c0 * Float.BYTES;
        long r1 = r0 + ld;
        long r2 = r1 + ld;
        long r3 = r2 + ld;
        long r4 = r3 + ld;
        long r5 = r4 + ld;
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = FloatVector.zero(S);
        FloatVector c02 = FloatVector.zero(S);
        FloatVector c03 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c11 = FloatVector.zero(S);
        FloatVector c12 = FloatVector.zero(S);
        FloatVector c13 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c21 = FloatVector.zero(S);
        FloatVector c22 = FloatVector.zero(S);
        FloatVector c23 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c31 = FloatVector.zero(S);
        FloatVector c32 = FloatVector.zero(S);
        FloatVector c33 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S);
        FloatVector c41 = FloatVector.zero(S);
        FloatVector c42 = FloatVector.zero(S);
        FloatVector c43 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S);
        FloatVector c51 = FloatVector.zero(S);
        FloatVector c52 = FloatVector.zero(S);
        FloatVector c53 = FloatVector.zero(S);
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            int bj = b1 + kk * NR;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector w2 = FloatVector.fromArray(S, b, bj);
            FloatVector w3 = FloatVector.fromArray(S, b, bj + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            c02 = w2.fma(x0, c02);
            c03 = w3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            c12 = w2.fma(x1, c12);
            c13 = w3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            c22 = w2.fma(x2, c22);
            c23 = w3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
            c32 = w2.fma(x3, c32);
            c33 = w3.fma(x3, c33);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            c42 = w2.fma(x4, c42);
            c43 = w3.fma(x4, c43);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = w0.fma(x5, c50);
            c51 = w1.fma(x5, c51);
            c52 = w2.fma(x5, c52);
            c53 = w3.fma(x5, c53);
        }
        c00.intoMemorySegment(c, r0, ORDER);
        c01.intoMemorySegment(c, r0 + q1, ORDER);
        c02.intoMemorySegment(c, r0 + q2, ORDER);
        c03.intoMemorySegment(c, r0 + q3, ORDER);
        c10.intoMemorySegment(c, r1, ORDER);
        c11.intoMemorySegment(c, r1 + q1, ORDER);
        c12.intoMemorySegment(c, r1 + q2, ORDER);
        c13.intoMemorySegment(c, r1 + q3, ORDER);
        c20.intoMemorySegment(c, r2, ORDER);
        c21.intoMemorySegment(c, r2 + q1, ORDER);
        c22.intoMemorySegment(c, r2 + q2, ORDER);
        c23.intoMemorySegment(c, r2 + q3, ORDER);
        c30.intoMemorySegment(c, r3, ORDER);
        c31.intoMemorySegment(c, r3 + q1, ORDER);
        c32.intoMemorySegment(c, r3 + q2, ORDER);
        c33.intoMemorySegment(c, r3 + q3, ORDER);
        c40.intoMemorySegment(c, r4, ORDER);
        c41.intoMemorySegment(c, r4 + q1, ORDER);
        c42.intoMemorySegment(c, r4 + q2, ORDER);
        c43.intoMemorySegment(c, r4 + q3, ORDER);
        c50.intoMemorySegment(c, r5, ORDER);
        c51.intoMemorySegment(c, r5 + q1, ORDER);
        c52.intoMemorySegment(c, r5 + q2, ORDER);
        c53.intoMemorySegment(c, r5 + q3, ORDER);
    }
}
