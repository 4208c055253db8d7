package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * The layers of a unidirectional LSTM on one batch chunk as a pipeline: each layer is a stage on its own thread that
 * takes step t as soon as the layer below has finished it (backward: the layer above), so L layers keep L threads
 * busy with one wait per step instead of a barrier per step, which is what a small batch (ptb-small: B = 20,
 * H = 200) costs when one step is split across threads. It needs each layer's packed weights to stay in or near its
 * core's L2 cache ({@link FastCpuPlan#fusedWeightsFitInCache}): every step streams them all, more than twice
 * the bytes of W_hh alone.
 *
 * <p>A step is one GEMM on [W_ih W_hh] packed once per call (see {@link PackedGemm}): forward
 * g_t [B, 4H] = [x_t h_{t-1}] [B, I + P] x [W_ih W_hh]^T [I + P, 4H]; backward
 * [dx_t dh_{t-1}] [B, I + P] = dA_t [B, 4H] x [W_ih W_hh] [4H, I + P]. The input projection and the input gradient
 * thus move into the step: the same arithmetic as the whole-sequence GEMMs, but every stage does the same work per
 * step. The weight gradients stay whole-sequence GEMMs, which the stages share out as their backward steps end
 * ({@link PipelineGradients}).
 *
 * <p>Each stage owns its layer's {@link FastCpuWorkspace.Dir}. What crosses stages: layer l's output rows of step t
 * (forward) and its input-gradient rows of step t (backward), written before the stage publishes the step in
 * {@link StageProgress} and read after its neighbour has awaited it.
 */
final class PipelinedLayers {
    private final LstmSpec spec;
    private final RecurrentStep step;
    private final StepGemms stepGemms;
    private final CpuThreads threadPool;
    private final int threads;

    PipelinedLayers(LstmSpec spec, RecurrentStep step, StepGemms stepGemms, CpuThreads threadPool, int threads) {
        if (spec.numDirections() != 1) {
            throw new IllegalArgumentException("pipelined layers: expected a unidirectional spec, got "
                    + spec.numDirections() + " directions");
        }
        this.spec = spec;
        this.step = step;
        this.stepGemms = stepGemms;
        this.threadPool = threadPool;
        this.threads = threads;
    }

    /**
     * Every layer's forward over the sequence from input [T*B, I] (in training ws.x0, which backward reads), with
     * each layer's combined bias and initial state in its Dir, and in training with dropout the masks of layers
     * 1.. in ws.dropMask. Layer l writes its output [T*B, P] to outs[l] and leaves its final state in its Dir. With
     * {@code oneRow} (a batch of one) each step's product runs on sgemv from the weights as they are
     * ({@link OneRowStep}), and nothing is packed. With {@code zeroStart} (no initial h given) the first step's
     * product skips W_hh, which meets zeros.
     */
    void forward(LstmParams params, FastCpuWorkspace ws, MemorySegment input, int seqLength, int batch, int[] lengths,
                 MemorySegment[] outs, boolean training, boolean oneRow, boolean zeroStart, Set<String> ran) {
        StageProgress progress = new StageProgress(spec.numLayers());
        progress.run(threadPool, threads, spec.numLayers(), l -> forwardStage(params, ws, input, progress, l,
                seqLength, batch, lengths, outs, training, oneRow, zeroStart), ran);
    }

    private void forwardStage(LstmParams params, FastCpuWorkspace ws, MemorySegment input, StageProgress progress,
                              int l, int seqLength, int batch, int[] lengths, MemorySegment[] outs, boolean training,
                              boolean oneRow, boolean zeroStart) {
        FastCpuWorkspace.Dir dir = ws.dir(l, 0);
        int p = spec.outputSize();
        int in = spec.layerInputSize(l);
        MemorySegment x = l == 0 ? input : outs[l - 1];                            // [T*B, I]
        MemorySegment mask = training && l > 0 ? ws.dropMask[l] : null;           // [T*B, I] or null
        MemorySegment whr = spec.projSize() > 0 ? params.weightHr(l, 0).segment() : null;
        MemorySegment peep = spec.peepholes() ? params.weightPeep(l, 0).segment() : null;
        MemorySegment wih = params.weightIh(l, 0).segment();                     // [4H, I]
        MemorySegment whh = params.weightHh(l, 0).segment();                     // [4H, P]
        boolean[] active = lengths == null ? null : dir.active;
        if (oneRow) {
            dir.backwardPacked = null; // nothing packed: backward runs on sgemv too
        } else {
            stepGemms.packFusedForward(params, dir, l, training);
        }
        step.prepareProjection(params, dir, l, 0, false, !oneRow);
        for (int t = 0; t < seqLength; t++) {
            if (l > 0) progress.await(l - 1, t + 1);
            long row0 = (long) t * batch;
            if (active != null) {
                for (int b = 0; b < batch; b++) active[b] = t < lengths[b];
            }
            MemorySegment xt = x;
            if (mask != null) { // the layer's input after dropout, kept for backward's dW_ih
                VectorMath.multiply(x, row0 * in, mask, row0 * in, ws.dropIn[l], row0 * in, batch * in);
                xt = ws.dropIn[l];
            }
            if (training) {
                MemorySegment.copy(dir.hState, 0, dir.hPrev[l], row0 * p * Float.BYTES, (long) batch * p * Float.BYTES);
            }
            MemorySegment gates = RecurrentStep.fusedGates(dir, l, training); // [B, 4H]
            stepGemms.fusedForward(wih, whh, dir, in, batch, xt, row0, in, 0, gates, 0, oneRow, zeroStart && t == 0);
            step.forward(dir, l, whr, peep, batch, row0, 0, gates, 0, outs[l], row0 * p, p, training, active);
            progress.finished(l, t + 1);
        }
    }

    /**
     * Every layer's backward through the sequence, after which each layer's Dir holds dA (for the weight gradients)
     * and dL/dh0, dL/dc0 in dhState, dcState. Expects dL/dh_n, dL/dc_n loaded in the Dirs, their peephole
     * accumulators zeroed. Reads the last layer's output gradient from dOut
     * [T*B, P], passes each layer's input gradient down through ws.dGradA / dGradB (times the dropout mask), and
     * writes layer 0's into dInput, batch-first when {@code batchFirst}. Each stage then runs afterLayer(l) for its
     * layer l (the weight gradients, {@link PipelineGradients#afterSteps}), on its own thread. With {@code oneRow}
     * the steps' products run on sgemv, as in forward.
     */
    void backward(LstmParams params, FastCpuWorkspace ws, int seqLength, int batch, int[] lengths, MemorySegment dOut,
                  MemorySegment dInput, boolean oneRow, IntConsumer afterLayer, Set<String> ran) {
        int layers = spec.numLayers();
        // layer l reads its output gradient from reads[l] and writes its input gradient to reads[l - 1]; with two
        // buffers alternating, a row is rewritten only after the layer that reads it has passed that step
        MemorySegment[] reads = new MemorySegment[layers];
        reads[layers - 1] = dOut;
        for (int l = layers - 2; l >= 0; l--) reads[l] = reads[l + 1] == ws.dGradA ? ws.dGradB : ws.dGradA;
        StageProgress progress = new StageProgress(layers);
        progress.run(threadPool, threads, layers, s -> {
            int l = layers - 1 - s; // stage 0 is the last layer: it starts the pipeline
            backwardStage(params, ws, progress, l, seqLength, batch, lengths, reads[l],
                    l == 0 ? dInput : reads[l - 1], oneRow);
            afterLayer.accept(l);
        }, ran);
    }

    private void backwardStage(LstmParams params, FastCpuWorkspace ws, StageProgress progress, int l, int seqLength,
                               int batch, int[] lengths, MemorySegment dOut, MemorySegment dIn, boolean oneRow) {
        FastCpuWorkspace.Dir dir = ws.dir(l, 0);
        int layers = spec.numLayers();
        int stage = layers - 1 - l;
        int p = spec.outputSize();
        int in = spec.layerInputSize(l);
        int ldo = StepGemms.fusedBackwardWidth(in, p);                           // stepOut [B, ldo]
        MemorySegment mask = l > 0 ? ws.dropMask[l] : null;                       // [T*B, I] or null
        MemorySegment whr = spec.projSize() > 0 ? params.weightHr(l, 0).segment() : null;
        MemorySegment peep = spec.peepholes() ? params.weightPeep(l, 0).segment() : null;
        MemorySegment wih = params.weightIh(l, 0).segment();                     // [4H, I]
        MemorySegment whh = params.weightHh(l, 0).segment();                     // [4H, P]
        boolean[] active = lengths == null ? null : dir.active;
        boolean batchFirst = spec.batchFirst();
        if (!oneRow) stepGemms.packFusedBackward(params, dir, l);
        step.prepareProjection(params, dir, l, 0, true, !oneRow);
        for (int s = 0; s < seqLength; s++) {
            int t = seqLength - 1 - s;
            if (stage > 0) progress.await(stage - 1, s + 1);
            long row0 = (long) t * batch;
            if (active != null) {
                for (int b = 0; b < batch; b++) active[b] = t < lengths[b];
            }
            step.gradientOfM(dir, whr, batch, row0, 0, dOut, row0 * p, p, active);
            step.backward(dir, l, peep, batch, row0, 0, 0, active);
            // [dx dh_prev] = dA [W_ih W_hh]: every covering panel into stepOut (its padded columns are zero)
            stepGemms.fusedBackward(wih, whh, dir, in, batch, row0, 0, oneRow);
            for (int b = 0; b < batch; b++) {
                long at = (long) b * ldo;
                long to = l > 0 || !batchFirst ? row0 + b : (long) b * seqLength + t;
                if (mask != null) {
                    VectorMath.multiply(dir.stepOut, at, mask, to * in, dIn, to * in, in);
                } else {
                    MemorySegment.copy(dir.stepOut, at * Float.BYTES, dIn, to * in * Float.BYTES,
                            (long) in * Float.BYTES);
                }
            }
            // dh of an inactive row carries over; its dA is zero, so its dx is too
            Rows.copy(dir.stepOut, in, ldo, dir.dhState, 0, p, batch, active, 0);
            progress.finished(stage, s + 1);
        }
    }
}
