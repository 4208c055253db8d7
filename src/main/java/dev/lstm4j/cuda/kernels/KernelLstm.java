package dev.lstm4j.cuda.kernels;

import static dev.lstm4j.cuda.kernels.DeviceWeights.B_HH;
import static dev.lstm4j.cuda.kernels.DeviceWeights.B_IH;
import static dev.lstm4j.cuda.kernels.DeviceWeights.PEEP;
import static dev.lstm4j.cuda.kernels.DeviceWeights.W_HH;
import static dev.lstm4j.cuda.kernels.DeviceWeights.W_HR;
import static dev.lstm4j.cuda.kernels.DeviceWeights.W_IH;

import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.lstm.ResultArena;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The LSTM over time, written once against {@link DeviceOps} (float32). Per layer and direction:
 * one GEMM projects the input of every step; then per step a recurrent GEMM and one fused pointwise kernel (plus a
 * projection GEMM and a masked state update when there is a projection). Backward mirrors it per step, then
 * computes the weight gradients with one GEMM each over all steps and the bias and peephole gradients with column
 * reductions.
 *
 * <p>Variable lengths: a sequence is processed in its own order (the reverse direction first reverses each
 * sequence within its length), so at processing step s entry b is active when s < length[b]; inactive entries keep
 * their state, output 0 and get no gradient. Inter-layer dropout masks are drawn on the host exactly as the
 * reference draws them (same generator, same order), so a given dropout seed gives the same mask on every backend.
 */
final class KernelLstm {
    private final LstmSpec spec;
    private final DeviceOps ops;
    private final NativeKernels k;
    private final CellOptions cell;
    private final FrozenDeviceWeights frozen;

    KernelLstm(LstmSpec spec, DeviceOps ops, FrozenDeviceWeights frozen) {
        this.spec = spec;
        this.ops = ops;
        this.frozen = frozen;
        this.k = ops.kernels();
        this.cell = CellOptions.of(spec);
    }

    /** The call's parameters on the device: kept from an earlier call where they are frozen, else uploaded into ws. */
    private DeviceWeights weights(DeviceOps.Workspace ws, LstmParams params) {
        return params.isFrozen() ? frozen.get(params) : DeviceWeights.upload(ops, ws, params);
    }

    /** What one direction of one layer kept for backward; all in processing order. */
    private static final class DirState {
        DevicePtr x;      // [T, B, in] this direction's input (the layer input, reversed per sequence for d = 1)
        DevicePtr hAll;   // [T+1, B, P] h before step s at slot s; slot T is h_n
        DevicePtr cAll;   // [T+1, B, H]
        DevicePtr mAll;   // [T, B, H] o * h(c) before the projection (projection only), 0 where inactive
        DevicePtr pre;    // [T, B, 4H] pre-activations
        DevicePtr gates;  // [T, B, 4H]
        DevicePtr craw;   // [T, B, H] c before the cell clip
    }

    /** Everything a training forward keeps on the device for backward; closing frees it. */
    static final class Trace implements AutoCloseable {
        private final DeviceOps.Workspace workspace;
        private final int steps;
        private final int batch;
        private final DevicePtr lengths;       // int32 [B]
        private final DirState[][] dirs;       // [layer][direction]
        private final DevicePtr[] dropoutMask; // [layer] [T, B, in] scale factors applied to the layer's input, or null

        private Trace(DeviceOps.Workspace workspace, int steps, int batch, DevicePtr lengths, int layers, int directions) {
            this.workspace = workspace;
            this.steps = steps;
            this.batch = batch;
            this.lengths = lengths;
            this.dirs = new DirState[layers][directions];
            this.dropoutMask = new DevicePtr[layers];
        }

        @Override
        public void close() {
            workspace.close();
        }
    }

    LstmOutput forward(LstmParams params, LstmInput in, ResultArena results) {
        int steps = in.seqLength(spec);
        int batch = in.batchSize(spec);
        int dirs = spec.numDirections();
        int out = spec.outputSize();
        boolean training = in.isTraining();
        DeviceOps.Workspace ws = ops.workspace();
        try {
            DevicePtr lengths = ws.ints(in.effectiveLengths(spec));
            Trace trace = new Trace(ws, steps, batch, lengths, spec.numLayers(), dirs);
            DeviceWeights w = weights(ws, params);
            long hCount = LstmShapes.hiddenStateShape(spec, batch).elementCount();
            long cCount = LstmShapes.cellStateShape(spec, batch).elementCount();
            DevicePtr h0 = stateOrZeros(ws, in.h0(), hCount);
            DevicePtr c0 = stateOrZeros(ws, in.c0(), cCount);
            DevicePtr hN = ws.floats(hCount);
            DevicePtr cN = ws.floats(cCount);

            DevicePtr x = toTimeMajor(ws, in.input(), steps, batch, spec.inputSize());
            SplittableRandom dropoutRandom = new SplittableRandom(in.dropoutSeed());
            for (int l = 0; l < spec.numLayers(); l++) {
                int width = spec.layerInputSize(l);
                if (l > 0 && training && spec.dropout() > 0) {
                    DevicePtr mask = dropoutMask(ws, dropoutRandom, (long) steps * batch * width);
                    DevicePtr dropped = ws.floats((long) steps * batch * width);
                    k.multiply((long) steps * batch * width, x, mask, dropped);
                    trace.dropoutMask[l] = mask;
                    x = dropped;
                }
                DevicePtr y = ws.floats((long) steps * batch * dirs * out); // [T, B, D*P]
                for (int d = 0; d < dirs; d++) {
                    int state = l * dirs + d;
                    DirState st = forwardDirection(ws, w, l, d, x, width, steps, batch, lengths, training,
                            h0.floats((long) state * batch * out, (long) batch * out),
                            c0.floats((long) state * batch * spec.hiddenSize(), (long) batch * spec.hiddenSize()), y);
                    ops.copy(st.hAll.floats((long) steps * batch * out, (long) batch * out),
                            hN.floats((long) state * batch * out, (long) batch * out), (long) batch * out * Float.BYTES);
                    long bh = (long) batch * spec.hiddenSize();
                    ops.copy(st.cAll.floats(steps * bh, bh), cN.floats(state * bh, bh), bh * Float.BYTES);
                    trace.dirs[l][d] = st;
                }
                x = y;
            }

            Tensor output = results.zeros(DType.FLOAT32, LstmShapes.outputShape(spec, steps, batch));
            Tensor hNt = results.zeros(DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor cNt = results.zeros(DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            fromTimeMajor(ws, x, results.writableByAnyThread(output), steps, batch, dirs * out);
            ops.download(hN, results.writableByAnyThread(hNt).segment(), hNt.byteSize());
            ops.download(cN, results.writableByAnyThread(cNt).segment(), cNt.byteSize());
            ops.synchronize();
            if (!training) {
                ws.close();
            }
            return new LstmOutput(results, output, hNt, cNt, in, training ? trace : null);
        } catch (RuntimeException | Error e) {
            ws.close();
            results.close();
            throw e;
        }
    }

    private DirState forwardDirection(DeviceOps.Workspace ws, DeviceWeights w, int l, int d, DevicePtr layerIn,
                                      int width, int steps, int batch, DevicePtr lengths, boolean training,
                                      DevicePtr h0, DevicePtr c0, DevicePtr layerOut) {
        int hidden = spec.hiddenSize();
        int out = spec.outputSize();
        int gates = 4 * hidden;
        int dirs = spec.numDirections();
        boolean proj = spec.projSize() > 0;
        long rows = (long) steps * batch;
        long bp = (long) batch * out;
        long bh = (long) batch * hidden;
        long bg = (long) batch * gates;

        DirState st = new DirState();
        st.x = d == 0 ? layerIn : ws.floats(rows * width);
        if (d == 1) {
            k.seqCopy(steps, batch, width, layerIn, (long) batch * width, width, st.x, (long) batch * width, width,
                    lengths, true, false);
        }
        DevicePtr gx = ws.floats(rows * gates); // [T, B, 4H] = x W_ih^T for every step at once
        ops.gemm(false, true, Math.toIntExact(rows), gates, width, 1f, st.x, width, w.get(l, d, W_IH), width, 0f,
                gx, gates);
        st.hAll = ws.floats((steps + 1L) * bp);
        st.cAll = ws.floats((steps + 1L) * bh);
        ops.copy(h0, st.hAll, bp * Float.BYTES);
        ops.copy(c0, st.cAll, bh * Float.BYTES);
        st.mAll = proj ? ws.floats(rows * hidden) : DevicePtr.NULL;
        if (training) {
            st.pre = ws.floats(rows * gates);
            st.gates = ws.floats(rows * gates);
            st.craw = ws.floats(rows * hidden);
        }
        DevicePtr y = ws.floats(rows * out); // [T, B, P] in processing order
        DevicePtr gh = ws.floats(bg);
        for (int s = 0; s < steps; s++) {
            DevicePtr hs = st.hAll.floats(s * bp, bp);
            DevicePtr hNext = st.hAll.floats((s + 1) * bp, bp);
            DevicePtr ys = y.floats(s * bp, bp);
            ops.gemm(false, true, batch, gates, out, 1f, hs, out, w.get(l, d, W_HH), out, 0f, gh, gates);
            DevicePtr m = proj ? st.mAll.floats(s * bh, bh) : ys;
            k.forwardPointwise(batch, hidden, gx.floats(s * bg, bg), gh, w.get(l, d, B_IH), w.get(l, d, B_HH),
                    w.get(l, d, PEEP), st.cAll.floats(s * bh, bh), proj ? DevicePtr.NULL : hs, lengths, s, cell,
                    st.cAll.floats((s + 1) * bh, bh), m, proj ? DevicePtr.NULL : hNext,
                    training ? st.pre.floats(s * bg, bg) : DevicePtr.NULL,
                    training ? st.gates.floats(s * bg, bg) : DevicePtr.NULL,
                    training ? st.craw.floats(s * bh, bh) : DevicePtr.NULL);
            if (proj) {
                ops.gemm(false, true, batch, out, hidden, 1f, m, hidden, w.get(l, d, W_HR), hidden, 0f, ys, out);
                k.maskSelect(batch, out, ys, hs, lengths, s, hNext);
            }
        }
        // Into the layer output [T, B, D*P] at column d*P, back in time order.
        k.seqCopy(steps, batch, out, y, bp, out, layerOut.atFloat((long) d * out), (long) batch * dirs * out,
                (long) dirs * out, lengths, d == 1, false);
        return st;
    }

    LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn,
                           ResultArena results) {
        Trace trace = forward.saved(Trace.class);
        LstmInput in = forward.input();
        int steps = trace.steps;
        int batch = trace.batch;
        int dirs = spec.numDirections();
        int out = spec.outputSize();
        int hidden = spec.hiddenSize();
        try (DeviceOps.Workspace ws = ops.workspace()) {
            LstmParams grads = LstmParams.zeros(spec, DType.FLOAT32, results);
            LstmParams gradsWritten = grads.writableByAnyThread(results); // downloads may land from other threads
            DeviceWeights w = weights(ws, params);
            DevicePtr dOut = gradOutput == null
                    ? ws.floats((long) steps * batch * dirs * out)
                    : toTimeMajor(ws, gradOutput, steps, batch, dirs * out);
            DevicePtr dhN = stateOrZeros(ws, gradHn, LstmShapes.hiddenStateShape(spec, batch).elementCount());
            DevicePtr dcN = stateOrZeros(ws, gradCn, LstmShapes.cellStateShape(spec, batch).elementCount());
            DevicePtr dh0 = ws.floats(dhN.floatCount());
            DevicePtr dc0 = ws.floats(dcN.floatCount());
            for (int l = spec.numLayers() - 1; l >= 0; l--) {
                int width = spec.layerInputSize(l);
                DevicePtr dx = ws.floats((long) steps * batch * width); // [T, B, in], summed over directions
                for (int d = 0; d < dirs; d++) {
                    int state = l * dirs + d;
                    long bp = (long) batch * out;
                    long bh = (long) batch * hidden;
                    DevicePtr dh = ws.floats(bp);
                    DevicePtr dc = ws.floats(bh);
                    ops.copy(dhN.floats(state * bp, bp), dh, bp * Float.BYTES);
                    ops.copy(dcN.floats(state * bh, bh), dc, bh * Float.BYTES);
                    backwardDirection(ws, w, gradsWritten, trace, l, d, width, dOut, dh, dc, dx);
                    ops.copy(dh, dh0.floats(state * bp, bp), bp * Float.BYTES);
                    ops.copy(dc, dc0.floats(state * bh, bh), bh * Float.BYTES);
                }
                if (trace.dropoutMask[l] != null) {
                    k.multiply((long) steps * batch * width, dx, trace.dropoutMask[l], dx);
                }
                dOut = dx;
            }
            Tensor dInput = results.zeros(DType.FLOAT32, in.input().shape());
            Tensor dh0t = results.zeros(DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor dc0t = results.zeros(DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            fromTimeMajor(ws, dOut, results.writableByAnyThread(dInput), steps, batch, spec.inputSize());
            ops.download(dh0, results.writableByAnyThread(dh0t).segment(), dh0t.byteSize());
            ops.download(dc0, results.writableByAnyThread(dc0t).segment(), dc0t.byteSize());
            ops.synchronize();
            return new LstmGradients(results, dInput, dh0t, dc0t, grads);
        } catch (RuntimeException | Error e) {
            results.close();
            throw e;
        }
    }

    /** Backward through one direction of one layer; dh [B, P] and dc [B, H] enter as the gradients of h_n, c_n and
     *  leave as those of h0, c0. Adds this direction's input gradient to dx [T, B, in]. */
    private void backwardDirection(DeviceOps.Workspace ws, DeviceWeights w, LstmParams grads, Trace trace, int l, int d,
                                   int width, DevicePtr dOut, DevicePtr dh, DevicePtr dc, DevicePtr dx) {
        int steps = trace.steps;
        int batch = trace.batch;
        int hidden = spec.hiddenSize();
        int out = spec.outputSize();
        int gates = 4 * hidden;
        int dirs = spec.numDirections();
        boolean proj = spec.projSize() > 0;
        boolean peep = spec.peepholes();
        int rows = Math.toIntExact((long) steps * batch);
        long bp = (long) batch * out;
        long bh = (long) batch * hidden;
        long bg = (long) batch * gates;
        DirState st = trace.dirs[l][d];
        DevicePtr lengths = trace.lengths;

        DevicePtr dy = ws.floats((long) rows * out); // this direction's output gradient, processing order, 0 past length
        k.seqCopy(steps, batch, out, dOut.atFloat((long) d * out), (long) batch * dirs * out, (long) dirs * out, dy,
                bp, out, lengths, d == 1, false);
        DevicePtr dA = ws.floats((long) rows * gates);        // [T, B, 4H]
        DevicePtr dhTotal = ws.floats((long) rows * out);     // [T, B, P] gradient of each step's h
        DevicePtr dPeep = peep ? ws.floats((long) rows * 3 * hidden) : DevicePtr.NULL; // [T, B, 3H]
        DevicePtr dm = proj ? ws.floats(bh) : DevicePtr.NULL;
        DevicePtr dhRec = ws.floats(bp);
        for (int s = steps - 1; s >= 0; s--) {
            DevicePtr dht = dhTotal.floats(s * bp, bp);
            k.add(bp, dh, dy.floats(s * bp, bp), dht);
            DevicePtr dms = dht;
            if (proj) {
                ops.gemm(false, false, batch, hidden, out, 1f, dht, out, w.get(l, d, W_HR), hidden, 0f, dm, hidden);
                dms = dm;
            }
            DevicePtr das = dA.floats(s * bg, bg);
            k.backwardPointwise(batch, hidden, dms, dc, st.pre.floats(s * bg, bg), st.gates.floats(s * bg, bg),
                    st.craw.floats(s * bh, bh), st.cAll.floats(s * bh, bh), st.cAll.floats((s + 1) * bh, bh),
                    w.get(l, d, PEEP), lengths, s, cell, das,
                    peep ? dPeep.floats(s * batch * 3L * hidden, batch * 3L * hidden) : DevicePtr.NULL);
            ops.gemm(false, false, batch, out, gates, 1f, das, gates, w.get(l, d, W_HH), out, 0f, dhRec, out);
            k.maskSelect(batch, out, dhRec, dht, lengths, s, dh);
        }

        DevicePtr dWih = ws.floats((long) gates * width);
        ops.gemm(true, false, gates, width, rows, 1f, dA, gates, st.x, width, 0f, dWih, width);
        DevicePtr dWhh = ws.floats((long) gates * out);
        ops.gemm(true, false, gates, out, rows, 1f, dA, gates, st.hAll, out, 0f, dWhh, out);
        DevicePtr dBias = ws.floats(gates);
        k.columnSum(rows, gates, dA, dBias, false);
        download(dWih, grads.weightIh(l, d));
        download(dWhh, grads.weightHh(l, d));
        download(dBias, grads.biasIh(l, d));
        download(dBias, grads.biasHh(l, d));
        if (proj) {
            DevicePtr dWhr = ws.floats((long) out * hidden);
            ops.gemm(true, false, out, hidden, rows, 1f, dhTotal, out, st.mAll, hidden, 0f, dWhr, hidden);
            download(dWhr, grads.weightHr(l, d));
        }
        if (peep) {
            DevicePtr dp = ws.floats(3L * hidden);
            k.columnSum(rows, 3 * hidden, dPeep, dp, false);
            download(dp, grads.weightPeep(l, d));
        }
        DevicePtr dxd = ws.floats((long) rows * width);
        ops.gemm(false, false, rows, width, gates, 1f, dA, gates, w.get(l, d, W_IH), width, 0f, dxd, width);
        k.seqCopy(steps, batch, width, dxd, (long) batch * width, width, dx, (long) batch * width, width, lengths,
                d == 1, true);
    }

    private void download(DevicePtr src, Tensor dst) {
        ops.download(src, dst.segment(), dst.byteSize());
    }

    /** A host tensor in the spec's layout as a time-major [T, B, width] device array. */
    private DevicePtr toTimeMajor(DeviceOps.Workspace ws, Tensor t, int steps, int batch, int width) {
        long n = (long) steps * batch * width;
        DevicePtr raw = ws.floats(n);
        ops.upload(t.segment(), raw, t.byteSize());
        if (!spec.batchFirst()) {
            return raw;
        }
        DevicePtr tm = ws.floats(n);
        k.seqCopy(steps, batch, width, raw, width, (long) steps * width, tm, (long) batch * width, width,
                DevicePtr.NULL, false, false);
        return tm;
    }

    /** A time-major [T, B, width] device array into a host tensor in the spec's layout. */
    private void fromTimeMajor(DeviceOps.Workspace ws, DevicePtr src, Tensor dst, int steps, int batch, int width) {
        DevicePtr laidOut = src;
        if (spec.batchFirst()) {
            laidOut = ws.floats((long) steps * batch * width);
            k.seqCopy(steps, batch, width, src, (long) batch * width, width, laidOut, width, (long) steps * width,
                    DevicePtr.NULL, false, false);
        }
        ops.download(laidOut, dst.segment(), dst.byteSize());
    }

    private DevicePtr stateOrZeros(DeviceOps.Workspace ws, Tensor t, long count) {
        if (t == null) {
            return ws.floats(count);
        }
        DevicePtr p = ws.floats(t.elementCount());
        ops.upload(t.segment(), p, t.byteSize());
        return p;
    }

    /** Inverted dropout, drawn as the reference draws it: keep with probability 1-p, scale kept values by 1/(1-p). */
    private DevicePtr dropoutMask(DeviceOps.Workspace ws, SplittableRandom random, long count) {
        double keep = 1.0 - spec.dropout();
        float scale = (float) (1.0 / keep);
        DevicePtr mask = ws.floats(count);
        try (Arena staging = Arena.ofConfined()) {
            MemorySegment host = staging.allocate(count * Float.BYTES, Float.BYTES);
            for (long i = 0; i < count; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextDouble() < keep ? scale : 0f);
            }
            ops.upload(host, mask, count * Float.BYTES);
            ops.synchronize(); // the staging memory is freed next
        }
        return mask;
    }
}
