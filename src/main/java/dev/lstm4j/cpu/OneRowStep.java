package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A step's products on OpenBLAS's sgemv, a row at a time, from the weights as they are: with one row a step's
 * product is a read of the weights, which sgemv does faster than the packed kernel's one-row block reads a packed
 * copy, and nothing needs packing; a call of a few rows and steps on weights packed per call reads them a few times
 * instead of packing them (FastCpuPlan.gemvSteps says where it applies). Each product goes through
 * {@link OpenBlas#sgemm}, which hands up to {@link OpenBlas#SGEMV_ROWS} rows to sgemv one a row; the rule never asks
 * for more. Offsets count floats.
 */
final class OneRowStep {
    private OneRowStep() {}

    /**
     * g [rows, 4H] at gOff = x [rows, I] (leading dimension xLd) W_ih^T + h [rows, P] W_hh^T: the fused step's
     * [x h] [W_ih W_hh]^T; with {@code zeroState} (h is zero) x W_ih^T alone.
     */
    static void forward(int rows, MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment x,
                        long xOff, int xLd, MemorySegment h, long hOff, MemorySegment g, long gOff,
                        boolean zeroState) {
        OpenBlas.sgemm(false, true, rows, h4, in, 1f, x, xOff, xLd, wih, 0, in, 0f, g, gOff, h4);
        if (!zeroState) {
            OpenBlas.sgemm(false, true, rows, h4, p, 1f, h, hOff, p, whh, 0, p, 1f, g, gOff, h4);
        }
    }

    /**
     * out [rows, I + P] at outOff (leading dimension ldo) = dA [rows, 4H] [W_ih W_hh]: dx = dA W_ih in a row's first
     * I floats, dh = dA W_hh in its next P (the fused backward step).
     */
    static void backward(int rows, MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment dA,
                         long dAOff, MemorySegment out, long outOff, int ldo) {
        OpenBlas.sgemm(false, false, rows, in, h4, 1f, dA, dAOff, h4, wih, 0, in, 0f, out, outOff, ldo);
        OpenBlas.sgemm(false, false, rows, p, h4, 1f, dA, dAOff, h4, whh, 0, p, 0f, out, outOff + in, ldo);
    }

    /**
     * Part q of parts of the recurrent product alone, split by outputs cut at multiples of 16 (A [rows, k] dense at
     * aOff, C [rows, n] dense at cOff): forward g[n0..n1) += (W_hh h)[n0..n1) (n = 4H outputs, k = P inputs),
     * backward dh[n0..n1) = (W_hh^T dA)[n0..n1) (n = P, k = 4H).
     */
    static void recurrentPart(int rows, MemorySegment whh, boolean backward, int n, int k, MemorySegment a, long aOff,
                              MemorySegment c, long cOff, int q, int parts) {
        int n0 = CpuThreads.cut(n, parts, q);
        int n1 = CpuThreads.cut(n, parts, q + 1);
        if (backward) { // W_hh [k = 4H, n = P]: its columns n0..n1
            OpenBlas.sgemm(false, false, rows, n1 - n0, k, 1f, a, aOff, k, whh, n0, n, 0f, c, cOff + n0, n);
        } else {        // W_hh [n = 4H, k = P]: its rows n0..n1, transposed
            OpenBlas.sgemm(false, true, rows, n1 - n0, k, 1f, a, aOff, k, whh, (long) n0 * k, k, 1f, c, cOff + n0,
                    n);
        }
    }
}
