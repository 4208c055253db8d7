package dev.lstm4j.cuda.cudnn;

import static org.bytedeco.cuda.global.cudnn.*;

import dev.lstm4j.cuda.CudaCheck;
import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.CudnnHandle;
import dev.lstm4j.cuda.DeviceBuffer;
import dev.lstm4j.cuda.DeviceCopies;
import dev.lstm4j.cuda.DevicePointers;
import dev.lstm4j.cuda.Stream;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * Standard LSTMs on cuDNN's RNN API (cuDNN 9, the v8 calls): cudnnRNNForward, cudnnRNNBackwardData_v8 and
 * cudnnRNNBackwardWeights_v8 on padded, unpacked sequences with per-sequence lengths. Host tensors in, host tensors
 * out; each call copies the weights into cuDNN's weight space (placed block by block as cuDNN reports,
 * {@link CudnnWeightPlan}; frozen parameters only when the space does not hold them already), the inputs to the
 * device, and the results back, on the backend's own stream.
 *
 * <p>Masking (DESIGN.md): outputs past a sequence's length are zero (cuDNN's padding fill of 0), h_n/c_n are the
 * states at the last valid step (cuDNN's variable-length semantics, the reverse direction starting at len-1),
 * gradients given for padded steps are zeroed before they reach cuDNN, and the input gradient past a length is zero.
 *
 * <p>Dropout between layers uses cuDNN's own generator, seeded from {@link LstmInput#dropoutSeed()}: its masks are not
 * the reference backend's, but backward uses exactly the forward's masks (kept in the reserve space).
 */
public final class CudnnLstmBackend implements LstmBackend {
    private static final int MAX_CACHED_PLANS = 8;

    private final LstmSpec spec;
    private final DType dtype;
    private final CudaDevice device;
    private final CudnnAlgorithm algorithm;
    private final Stream stream;
    private final CudnnHandle handle;
    private final CudnnRnn rnn;
    private final Map<Long, CudnnCallPlan> plans = new LinkedHashMap<>(16, 0.75f, true); // LRU by (B, T)
    private boolean closed;

    CudnnLstmBackend(LstmSpec spec, DType dtype, CudaDevice device, CudnnAlgorithm algorithm) {
        CudnnSupport.unsupportedReason(spec, dtype).ifPresent(r -> {
            throw new IllegalArgumentException("backend cudnn: cannot run " + spec + " in " + dtype + ": " + r);
        });
        algorithm.refusal(spec).ifPresent(r -> {
            throw new IllegalArgumentException("backend cudnn: " + r);
        });
        this.spec = spec;
        this.dtype = dtype;
        this.device = device;
        this.algorithm = algorithm;
        device.makeCurrent();
        this.stream = Stream.create(device);
        CudnnHandle h = null;
        CudnnRnn r = null;
        try {
            h = CudnnHandle.create(device, stream);
            r = new CudnnRnn(spec, dtype, device, h, stream, algorithm);
        } catch (RuntimeException e) {
            if (h != null) h.close();
            stream.close();
            throw e;
        }
        this.handle = h;
        this.rnn = r;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CUDNN;
    }

    public CudnnAlgorithm algorithm() {
        return algorithm;
    }

    /** Number of (batch, max length) plans currently cached. */
    public synchronized int cachedPlans() {
        return plans.size();
    }

    @Override
    public synchronized LstmOutput forward(LstmParams params, LstmInput in, ResultArena results) {
        requireOpen();
        // Everything is checked before the first native call.
        LstmShapes.checkInput(spec, dtype, in);
        LstmShapes.checkParams(spec, dtype, params);
        requireHost("input", in.input());
        requireHost("h0", in.h0());
        requireHost("c0", in.c0());
        int seqLength = in.seqLength(spec);
        int batch = in.batchSize(spec);
        int[] lengths = in.effectiveLengths(spec);
        algorithm.refusal(lengths, seqLength).ifPresent(r -> {
            throw new IllegalArgumentException("lengths: " + r);
        });
        boolean training = in.isTraining();

        device.makeCurrent();
        List<DeviceBuffer> temps = new ArrayList<>();
        try {
            if (training) rnn.prepareDropout(in.dropoutSeed());
            rnn.uploadWeights(params);
            CudnnCallPlan plan = plan(batch, seqLength);
            plan.describe(lengths);
            DeviceBuffer x = upload(in.input(), temps);
            DeviceBuffer hx = in.h0() == null ? null : upload(in.h0(), temps);
            DeviceBuffer cx = in.c0() == null ? null : upload(in.c0(), temps);
            Tensor output = results.zeros(dtype, LstmShapes.outputShape(spec, seqLength, batch));
            Tensor hN = results.zeros(dtype, LstmShapes.hiddenStateShape(spec, batch));
            Tensor cN = results.zeros(dtype, LstmShapes.cellStateShape(spec, batch));
            DeviceBuffer y = allocate(output.byteSize(), temps);
            DeviceBuffer hy = allocate(hN.byteSize(), temps);
            DeviceBuffer cy = allocate(cN.byteSize(), temps);
            DeviceBuffer reserve = training ? allocate(plan.reserveBytes(), temps) : null;
            CudaCheck.cudnn("cudnnRNNForward(" + (training ? "training" : "inference") + ", T=" + seqLength + ", B="
                            + batch + ")",
                    cudnnRNNForward(handle.handle(), rnn.descriptor(),
                            training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE,
                            DevicePointers.ints(plan.deviceLengths()), plan.xDesc, ptr(x), plan.yDesc, ptr(y),
                            plan.hDesc, ptr(hx), ptr(hy), plan.cDesc, ptr(cx), ptr(cy),
                            rnn.weightSpaceBytes(), ptr(rnn.weights()), plan.workspaceBytes(), ptr(plan.workspace()),
                            training ? plan.reserveBytes() : 0, ptr(reserve)));
            // the copy engine writes them: views by address, valid while this call waits for the stream
            DeviceCopies.toHost(y, 0, results.writableByAnyThread(output).segment(), stream);
            DeviceCopies.toHost(hy, 0, results.writableByAnyThread(hN).segment(), stream);
            DeviceCopies.toHost(cy, 0, results.writableByAnyThread(cN).segment(), stream);
            stream.synchronize();
            CudnnSavedForward saved = null;
            if (training) {
                saved = new CudnnSavedForward(this, batch, seqLength, lengths, x, y, hx, cx, reserve);
                temps.removeAll(java.util.Arrays.asList(x, y, hx, cx, reserve));
            }
            return new LstmOutput(results, output, hN, cN, in, saved);
        } catch (RuntimeException | Error e) {
            results.close();
            throw e;
        } finally {
            temps.forEach(DeviceBuffer::close);
        }
    }

    @Override
    public synchronized LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn,
                                               Tensor gradCn, ResultArena results) {
        requireOpen();
        CudnnSavedForward saved = forward.saved(CudnnSavedForward.class);
        if (saved.owner != this) {
            throw new IllegalArgumentException("forward output: expected one made by this cudnn backend, got one from "
                    + "another layer");
        }
        LstmShapes.checkGradients(spec, dtype, saved.seqLength, saved.batch, gradOutput, gradHn, gradCn);
        LstmShapes.checkParams(spec, dtype, params);
        requireHost("gradOutput", gradOutput);
        requireHost("gradHn", gradHn);
        requireHost("gradCn", gradCn);
        saved.claimForBackward();

        int batch = saved.batch;
        int seqLength = saved.seqLength;
        device.makeCurrent();
        List<DeviceBuffer> temps = new ArrayList<>();
        Arena scratch = Arena.ofConfined(); // the masked copy of gradOutput
        try {
            LstmParams grads = LstmParams.zeros(spec, dtype, results);
            rnn.uploadWeights(params);
            CudnnCallPlan plan = plan(batch, seqLength);
            plan.describe(saved.lengths);
            Tensor dInput = results.zeros(dtype, forward.input().input().shape());
            Tensor dh0 = results.zeros(dtype, LstmShapes.hiddenStateShape(spec, batch));
            Tensor dc0 = results.zeros(dtype, LstmShapes.cellStateShape(spec, batch));
            DeviceBuffer dy;
            if (gradOutput == null) {
                dy = allocate(saved.y.byteSize(), temps);
                DeviceCopies.zero(dy, stream);
            } else {
                Tensor masked = gradOutput.copy(scratch); // no gradient flows from padded steps
                Padding.zero(masked, saved.lengths, spec.batchFirst());
                dy = upload(masked, temps);
            }
            DeviceBuffer dhy = gradHn == null ? null : upload(gradHn, temps);
            DeviceBuffer dcy = gradCn == null ? null : upload(gradCn, temps);
            DeviceBuffer dx = allocate(dInput.byteSize(), temps);
            DeviceBuffer dhx = allocate(dh0.byteSize(), temps);
            DeviceBuffer dcx = allocate(dc0.byteSize(), temps);
            CudaCheck.cudnn("cudnnRNNBackwardData_v8(T=" + seqLength + ", B=" + batch + ")",
                    cudnnRNNBackwardData_v8(handle.handle(), rnn.descriptor(), DevicePointers.ints(plan.deviceLengths()),
                            plan.yDesc, ptr(saved.y), ptr(dy), plan.xDesc, ptr(dx),
                            plan.hDesc, ptr(saved.hx), ptr(dhy), ptr(dhx), plan.cDesc, ptr(saved.cx), ptr(dcy), ptr(dcx),
                            rnn.weightSpaceBytes(), ptr(rnn.weights()), plan.workspaceBytes(), ptr(plan.workspace()),
                            saved.reserve.byteSize(), ptr(saved.reserve)));
            rnn.zeroWeightGrads(); // cuDNN 9 only adds into the gradient space (CUDNN_WGRAD_MODE_ADD)
            CudaCheck.cudnn("cudnnRNNBackwardWeights_v8(T=" + seqLength + ", B=" + batch + ")",
                    cudnnRNNBackwardWeights_v8(handle.handle(), rnn.descriptor(), CUDNN_WGRAD_MODE_ADD,
                            DevicePointers.ints(plan.deviceLengths()), plan.xDesc, ptr(saved.x), plan.hDesc,
                            ptr(saved.hx), plan.yDesc, ptr(saved.y), rnn.weightSpaceBytes(), ptr(rnn.weightGrads()),
                            plan.workspaceBytes(), ptr(plan.workspace()), saved.reserve.byteSize(), ptr(saved.reserve)));
            // the copy engine writes them: views by address, valid while this call waits for the stream
            DeviceCopies.toHost(dx, 0, results.writableByAnyThread(dInput).segment(), stream);
            DeviceCopies.toHost(dhx, 0, results.writableByAnyThread(dh0).segment(), stream);
            DeviceCopies.toHost(dcx, 0, results.writableByAnyThread(dc0).segment(), stream);
            rnn.downloadWeightGrads(grads.writableByAnyThread(results)); // synchronises the stream
            Padding.zero(dInput, saved.lengths, spec.batchFirst()); // inputs past a length were never read
            return new LstmGradients(results, dInput, dh0, dc0, grads);
        } catch (RuntimeException | Error e) {
            results.close();
            throw e;
        } finally {
            temps.forEach(DeviceBuffer::close);
            scratch.close();
        }
    }

    private CudnnCallPlan plan(int batch, int seqLength) {
        long key = ((long) batch << 32) | seqLength;
        CudnnCallPlan plan = plans.get(key);
        if (plan == null) {
            plan = new CudnnCallPlan(spec, dtype, rnn, handle, stream, device, algorithm, batch, seqLength);
            plans.put(key, plan);
            if (plans.size() > MAX_CACHED_PLANS) {
                var eldest = plans.entrySet().iterator();
                CudnnCallPlan old = eldest.next().getValue();
                eldest.remove();
                old.close();
            }
        }
        return plan;
    }

    private DeviceBuffer upload(Tensor host, List<DeviceBuffer> temps) {
        DeviceBuffer b = allocate(host.byteSize(), temps);
        DeviceCopies.toDevice(host.segment(), b, 0, stream);
        return b;
    }

    private DeviceBuffer allocate(long bytes, List<DeviceBuffer> temps) {
        DeviceBuffer b = device.allocator().allocate(bytes, stream);
        temps.add(b);
        return b;
    }

    private static Pointer ptr(DeviceBuffer b) {
        return b == null ? null : DevicePointers.of(b);
    }

    private static void requireHost(String name, Tensor t) {
        if (t != null && !t.device().isHost()) {
            throw new IllegalArgumentException(name + ": expected a host tensor (the cudnn backend copies it to "
                    + "the device itself), got one on " + t.device());
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("backend cudnn: already closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        try {
            stream.synchronize();
        } finally {
            plans.values().forEach(CudnnCallPlan::close);
            plans.clear();
            rnn.close();
            handle.close();
            stream.close();
        }
    }
}
