package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;

/**
 * The part of one time step around its recurrent GEMM, for some rows of one recurrence (layer l, one direction):
 * forward, what follows the GEMM (the fused pointwise pass, and with a projection h = W_hr m); backward, what comes
 * before it (dL/dm from the step's output gradient and the carried dL/dh, then the fused pointwise backward into
 * dA). The rows are batch rows b0.. of the step whose first sequence row is row0 (= t * B + b0).
 */
final class RecurrentStep {
    private final LstmSpec spec;
    private final FusedPointwise pointwise;
    private final StepProjection projection;

    RecurrentStep(LstmSpec spec, FusedPointwise pointwise, StepProjection projection) {
        this.spec = spec;
        this.pointwise = pointwise;
        this.projection = projection;
    }

    /**
     * Before layer l's steps in one direction: W_hr packed for them where {@code packed} (the steps' recurrent
     * products run on the packed kernel), else the projection on OpenBLAS ({@link StepProjection#prepare}).
     */
    void prepareProjection(LstmParams params, FastCpuWorkspace.Dir dir, int l, int d, boolean backward,
                           boolean packed) {
        projection.prepare(params, dir, l, d, backward, packed);
    }

    /**
     * Where a fused step's product goes: [B, 4H] that every step reuses, at the step's batch rows (b0 * 4H), so that
     * it stays in cache, instead of a fresh [B, 4H] of a [T*B, 4H] buffer each step (write-allocated from memory:
     * seed-mnist's is 7 MB). In inference that is g[l] itself (its first step's rows), as nothing reads the gates
     * after the step; same arithmetic, 2 threads, alternating 1-s blocks in one JVM, time with over time without:
     * seed-mnist inference 0.947 and 0.990, serving 0.975, seed-mnist-bidirectional 0.928-0.931, seed-mnist-peephole
     * 0.960, ptb-small (the pipeline) 0.983, serving 0.991. In training it is the Dir's gStep, and {@link #forward}
     * copies the step's activations from there to the step's own rows of g[l], where backward reads them: the
     * product's scattered stores (8 rows of 32 columns a block) had waited on fresh lines, a sequential copy does not:
     * in ptb-small's pipeline the product's median per call went from 134 to 115-119 us (117.5 in inference), and a
     * training step took 0.963-0.966 of the time (paired as above; seed-mnist 0.987, seed-mnist-bidirectional
     * 0.973, seed-mnist-peephole 1.006). Steps on a whole-sequence projection: see
     * {@link StepGemms#recurrentOnProjection}.
     */
    static MemorySegment fusedGates(FastCpuWorkspace.Dir dir, int l, boolean training) {
        return training ? dir.gStep : dir.g[l];
    }

    /**
     * Gates [rows, 4H] at gates + gOff (the GEMM's sum) to the new c and h: h goes to out (leading dimension width)
     * and to hState; a training step also keeps c_prev, c (and the unclipped c, and m) for backward, and the gates'
     * activations in g[l]'s rows from row0 (copied there when {@code gates} is a fused step's, {@link #fusedGates}).
     *
     * @param whr  [P, H] or null without a projection
     * @param peep [3H] or null without peepholes
     * @param gates g[l], or a fused step's [B, 4H] ({@link #fusedGates})
     * @param gOff  floats: the step's rows of g[l] (row0 * 4H), or of a fused step's gates (b0 * 4H)
     */
    void forward(FastCpuWorkspace.Dir dir, int l, MemorySegment whr, MemorySegment peep, int rows, long row0, int b0,
                 MemorySegment gates, long gOff, MemorySegment out, long outOff, int width, boolean training,
                 boolean[] active) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        long cOff = (long) b0 * h;
        MemorySegment cPrev = training ? dir.cPrev[l] : null;
        MemorySegment c = training ? dir.c[l] : null;
        MemorySegment cRaw = training ? dir.cRaw[l] : null;
        if (whr != null) {
            MemorySegment m = training ? dir.m[l] : dir.mStep;
            long mOff = training ? row0 * h : cOff;
            pointwise.forward(rows, gates, gOff, dir.bias, peep, dir.cState, cPrev, row0 * h, c, cRaw,
                    row0 * h, m, mOff, h, null, cOff, active, b0);
            projection.forward(dir, whr, rows, b0, m, mOff, out, outOff, width);
            Rows.copy(out, outOff, width, dir.hState, (long) b0 * p, p, rows, active, b0);
        } else {
            pointwise.forward(rows, gates, gOff, dir.bias, peep, dir.cState, cPrev, row0 * h, c, cRaw,
                    row0 * h, out, outOff, width, dir.hState, cOff, active, b0);
        }
        if (training && gates != dir.g[l]) {
            long h4 = 4L * h;
            MemorySegment.copy(gates, gOff * Float.BYTES, dir.g[l], row0 * h4 * Float.BYTES, rows * h4 * Float.BYTES);
        }
    }

    /**
     * dL/dm of the rows: dL/dh = dhState + dOut[outOff..] (leading dimension width) for active rows, 0 for the others;
     * with a projection kept in dh (for dW_hr) and taken through W_hr. {@link #dm} and {@link #dmLd} say where it is.
     */
    void gradientOfM(FastCpuWorkspace.Dir dir, MemorySegment whr, int rows, long row0, int b0, MemorySegment dOut,
                     long outOff, int width, boolean[] active) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        long hOff = (long) b0 * p;
        if (whr != null) {
            Rows.add(dir.dhState, hOff, dOut, outOff, width, dir.dh, row0 * p, p, rows, active, b0);
            projection.backward(dir, whr, rows, b0, dir.dh, row0 * p, dir.dmStep, (long) b0 * h);
        } else {
            Rows.add(dir.dhState, hOff, dOut, outOff, width, dir.dhStep, hOff, p, rows, active, b0);
        }
    }

    /** Where {@link #gradientOfM} left dL/dm: [B, H] with a projection, else [B, P]. */
    MemorySegment dm(FastCpuWorkspace.Dir dir) {
        return spec.projSize() > 0 ? dir.dmStep : dir.dhStep;
    }

    int dmLd() {
        return spec.projSize() > 0 ? spec.hiddenSize() : spec.outputSize();
    }

    /**
     * The fused pointwise backward of the rows: dA[row0..] from dL/dm and the carried dcState (updated); peephole
     * gradients are added to the accumulator at dPeep[peepOff..].
     */
    void backward(FastCpuWorkspace.Dir dir, int l, MemorySegment peep, int rows, long row0, int b0, long peepOff,
                  boolean[] active) {
        int h = spec.hiddenSize();
        long cOff = (long) b0 * h;
        int ld = dmLd();
        pointwise.backward(rows, dm(dir), (long) b0 * ld, ld, dir.dcState, dir.g[l], row0 * 4 * h, dir.cPrev[l],
                dir.c[l], dir.cRaw[l], row0 * h, peep, dir.dPeep, peepOff, dir.dA, cOff, active, b0);
    }
}
