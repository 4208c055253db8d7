package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A step's products for a recurrence of one row (a batch of one) on OpenBLAS's sgemv, from the weights as they are:
 * with one row a step's product is a read of the weights, which sgemv does faster than the packed kernel's one-row
 * block reads a packed copy, and nothing needs packing (FastCpuPlan.gemvSteps says where it applies). Offsets
 * count floats.
 */
final class OneRowStep {
    private OneRowStep() {}

    /**
     * g [4H] at gOff = W_ih [4H, I] x [I] + W_hh [4H, P] h [P]: the fused step's [x h] [W_ih W_hh]^T; with
     * {@code zeroState} (h is zero) W_ih x alone.
     */
    static void forward(MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment x, long xOff,
                        MemorySegment h, long hOff, MemorySegment g, long gOff, boolean zeroState) {
        OpenBlas.sgemv(false, h4, in, 1f, wih, 0, in, x, xOff, 0f, g, gOff);
        if (!zeroState) {
            OpenBlas.sgemv(false, h4, p, 1f, whh, 0, p, h, hOff, 1f, g, gOff);
        }
    }

    /**
     * out [I + P] at outOff = dA [4H] [W_ih W_hh]: dx = W_ih^T dA in its first I floats, dh = W_hh^T dA in the
     * next P (the fused backward step).
     */
    static void backward(MemorySegment wih, int in, MemorySegment whh, int p, int h4, MemorySegment dA, long dAOff,
                         MemorySegment out, long outOff) {
        OpenBlas.sgemv(true, h4, in, 1f, wih, 0, in, dA, dAOff, 0f, out, outOff);
        OpenBlas.sgemv(true, h4, p, 1f, whh, 0, p, dA, dAOff, 0f, out, outOff + in);
    }

    /**
     * Part q of parts of the recurrent product alone, split by outputs cut at multiples of 16: forward g[n0..n1) +=
     * (W_hh h)[n0..n1) (n = 4H outputs, k = P inputs), backward dh[n0..n1) = (W_hh^T dA)[n0..n1) (n = P, k = 4H).
     */
    static void recurrentPart(MemorySegment whh, boolean backward, int n, int k, MemorySegment a, long aOff,
                              MemorySegment c, long cOff, int q, int parts) {
        int n0 = CpuThreads.cut(n, parts, q);
        int n1 = CpuThreads.cut(n, parts, q + 1);
        if (backward) { // W_hh's columns n0..n1
            OpenBlas.sgemv(true, k, n1 - n0, 1f, whh, n0, n, a, aOff, 0f, c, cOff + n0);
        } else {        // W_hh's rows n0..n1
            OpenBlas.sgemv(false, n1 - n0, k, 1f, whh, (long) n0 * k, k, a, aOff, 1f, c, cOff + n0);
        }
    }
}
