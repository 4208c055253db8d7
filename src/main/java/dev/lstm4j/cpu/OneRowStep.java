package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A step's products on OpenBLAS's sgemv, a row at a time, from the weights as they are: with one row a step's
 * product is a read of the weights, which sgemv does faster than the packed kernel's one-row block reads a packed
 * copy, and nothing needs packing; a call of a few rows and steps on weights packed per call reads them a few times
 * instead of packing them (FastCpuPlan.gemvSteps says where it applies). Offsets count floats.
 */
final class OneRowStep {
    private OneRowStep() {}

    /**
     * g [rows, 4H] at gOff = x [rows, I] (leading dimension xLd) W_ih^T + h [rows, P] W_hh^T: the fused step's
     * [x h] [W_ih W_hh]^T, a row at a time; with {@code zeroState} (h is zero) x W_ih^T alone.
     */
    static void forward(int rows, MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment x,
                        long xOff, int xLd, MemorySegment h, long hOff, MemorySegment g, long gOff,
                        boolean zeroState) {
        for (int r = 0; r < rows; r++) {
            long gr = gOff + (long) r * h4;
            OpenBlas.sgemv(false, h4, in, 1f, wih, 0, in, x, xOff + (long) r * xLd, 0f, g, gr);
            if (!zeroState) {
                OpenBlas.sgemv(false, h4, p, 1f, whh, 0, p, h, hOff + (long) r * p, 1f, g, gr);
            }
        }
    }

    /**
     * out [rows, I + P] at outOff (leading dimension ldo) = dA [rows, 4H] [W_ih W_hh], a row at a time: dx = dA W_ih
     * in a row's first I floats, dh = dA W_hh in its next P (the fused backward step).
     */
    static void backward(int rows, MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment dA,
                         long dAOff, MemorySegment out, long outOff, int ldo) {
        for (int r = 0; r < rows; r++) {
            long dr = dAOff + (long) r * h4;
            long or = outOff + (long) r * ldo;
            OpenBlas.sgemv(true, h4, in, 1f, wih, 0, in, dA, dr, 0f, out, or);
            OpenBlas.sgemv(true, h4, p, 1f, whh, 0, p, dA, dr, 0f, out, or + in);
        }
    }

    /**
     * Part q of parts of the recurrent product alone, split by outputs cut at multiples of 16, a row at a time (A
     * [rows, k] dense at aOff, C [rows, n] dense at cOff): forward g[n0..n1) += (W_hh h)[n0..n1) (n = 4H outputs,
     * k = P inputs), backward dh[n0..n1) = (W_hh^T dA)[n0..n1) (n = P, k = 4H).
     */
    static void recurrentPart(int rows, MemorySegment whh, boolean backward, int n, int k, MemorySegment a, long aOff,
                              MemorySegment c, long cOff, int q, int parts) {
        int n0 = CpuThreads.cut(n, parts, q);
        int n1 = CpuThreads.cut(n, parts, q + 1);
        for (int r = 0; r < rows; r++) {
            long ar = aOff + (long) r * k;
            long cr = cOff + (long) r * n + n0;
            if (backward) { // W_hh's columns n0..n1
                OpenBlas.sgemv(true, k, n1 - n0, 1f, whh, n0, n, a, ar, 0f, c, cr);
            } else {        // W_hh's rows n0..n1
                OpenBlas.sgemv(false, n1 - n0, k, 1f, whh, (long) n0 * k, k, a, ar, 1f, c, cr);
            }
        }
    }
}
