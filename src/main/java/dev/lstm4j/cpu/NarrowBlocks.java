package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register blocks of {@link PackedGemm} that only 256-bit vectors take (AVX2, 16 vector registers; PackedGemm's
 * {@code MR} 4): C[rows, NR] = INIT + A[rows, k] B-panel[k, NR] over one panel of two vectors, as PackedGemm's
 * blocks, with the same arguments (INIT read from init at i0 with leading dimension ldi: C itself to accumulate, the
 * zero panel with ldi 0 otherwise; offsets in floats).
 *
 * <p>Two differences from the blocks PackedGemm keeps for AVX-512 (its 4-row block, which takes the rows that 6-row
 * blocks leave, is shared). A's step along k is a constant in each loop (1 for rows of A, {@link PackedGemm#MR} for
 * the row blocks of the weight gradients), not an argument as in PackedGemm's 8-row block: on a Zen 3 VM (AVX2,
 * 2026-12-08) C2's 4-row loop with the step passed in ran at 0.64-0.79 of the same loop with a constant one (one
 * core, alternating blocks: [20 x 650] x [650 x 2592] 0.67, [60 x 156] x [156 x 512] 0.79, [128 x 650] x
 * [650 x 2592] 0.64, row-blocked A at [128 x 156] x [156 x 512] 0.64), where on Zen 4 (AVX-512) the passed step had
 * been the faster. And blocks of 6 rows (12 accumulators, 2 loads of B and 6 broadcasts for 12 FMAs, 15 of the 16
 * registers) take most rows: Zen 3's two FMA units with a latency of 4 cycles need 8 independent accumulators, so a
 * block of 4 rows (8) has no slack (alone, 1.04-1.19 times the constant-step 4-row block's rate at 20 to 60 rows,
 * 0.94-1.14 at 96 and 128). Whole calls on that VM, 2 threads, against the variable-step 4-row block: ptb-medium
 * inference 0.754, seed-mnist inference 0.823, large-batch inference 0.833, ptb-small training 0.804, seed-mnist
 * training 0.831.
 */
final class NarrowBlocks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int LANES = S.length();
    private static final int NR = PackedGemm.NR;
    private static final int MR = PackedGemm.MR;

    private NarrowBlocks() {}

    /**
     * Blocks of 6 rows to take of m, the rest going to blocks of 4 and single rows: m mod 6 of 2 or 3 gives up a
     * block of 6 for two of 4 (8 = 4 + 4, 9 = 4 + 4 + 1), since a single row runs its two accumulators at a quarter
     * of the block's rate.
     */
    static int sixRowBlocks(int m) {
        int sixes = m / 6;
        int rest = m % 6;
        return (rest == 2 || rest == 3) && sixes > 0 ? sixes - 1 : sixes;
    }

    /** 6 rows of A (rows lda apart, columns 1 apart) over one panel. */
    static void sixRows(int k, float[] a, int a0, int lda, float[] b, int b0, MemorySegment init, long i0, int ldi,
                        MemorySegment c, long c0, int ldc) {
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
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
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
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = w0.fma(x5, c50);
            c51 = w1.fma(x5, c51);
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
    }

    /**
     * A row block of {@link PackedGemm#MR} (4) rows as the weight gradients pack it (element (r, kk) at
     * a0 + kk * 4 + r) over one panel.
     */
    static void fourBlockedRows(int k, float[] a, int a0, float[] b, int b0, MemorySegment init, long i0, int ldi,
                                MemorySegment c, long c0, int ldc) {
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
        for (int kk = 0; kk < k; kk++) {
            int bi = b0 + kk * NR;
            int ak = a0 + kk * MR;
            FloatVector w0 = FloatVector.fromArray(S, b, bi);
            FloatVector w1 = FloatVector.fromArray(S, b, bi + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[ak]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[ak + 1]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[ak + 2]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[ak + 3]);
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
}
