package dev.lstm4j.cpu;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The fast CPU LSTM, float32: BLAS for the large matrix products, a packed-weight Vector API kernel for the per-step
 * ones ({@link PackedGemm}; OpenBLAS for those too with {@link RecurrentGemm#BLAS}), one fused Vector API pass for the
 * pointwise part of a step ({@link FusedPointwise}).
 *
 * <ul>
 *   <li>forward, per layer and direction: the input projection of all T steps in one GEMM ([T*B, I] x [I, 4H]), then
 *   per step one recurrent GEMM ([B, P] x [P, 4H], accumulated into the projection) and the fused pointwise pass
 *   (plus one GEMM for the projection h = W_hr m);</li>
 *   <li>the per-step recurrent GEMMs (forward h W_hh^T, backward dA W_hh) run on W_hh packed once per call into
 *   column panels ({@link PackedGemm}) where the machine has vectors of at least 8 floats and
 *   {@link RecurrentGemm#PACKED} is chosen: OpenBLAS re-packs W_hh on every call, and with few rows that packing
 *   set the step's time (measured, single thread, the Intel VM: [20 x 650] x [650 x 2592] 0.83 ms OpenBLAS, 0.61 ms
 *   packed; [20 x 200] x [200 x 800] 0.067 / 0.045 ms; [32 x 512] x [512 x 2048] 0.67 / 0.55 ms;
 *   [64 x 128] x [128 x 512] 0.061 / 0.056 ms). The columns past the last whole panel go to OpenBLAS. A step of
 *   one row (a batch of one), on any path below, runs on OpenBLAS's sgemv from the weights as they are, unpacked,
 *   except on frozen parameters small enough to fuse ({@link #gemvSteps}, {@link OneRowStep});</li>
 *   <li>fused steps: where every layer's packed [W_ih W_hh] is small beside a core's L2
 *   ({@link #fusedWeightsFitInCache}) and a layer has several recurrences (directions, batch chunks), or runs on
 *   one thread with those weights within half of L2 ({@link #loneRecurrenceFuses}), a step's GEMM
 *   is [x_t h_{t-1}] [W_ih W_hh]^T and there is no whole-sequence projection; a unidirectional multi-layer LSTM on
 *   one batch chunk runs its layers as a pipeline ({@link PipelinedLayers}, fused steps backward too). When a
 *   layer's recurrence is the only one otherwise (one direction, one batch chunk), each step's GEMM is split by
 *   column panels and its pointwise pass by rows over a {@link CpuThreads.Team};</li>
 *   <li>backward: per step the fused pointwise backward and one GEMM for dh of the previous step; then the weight
 *   gradients as whole-sequence GEMMs (dW_ih = dA^T X, dW_hh = dA^T H, dW_hr = dH^T M, db = dA^T 1; the first two
 *   on {@link PackedGemm} where {@link #packedGradients}) and the input gradient as one GEMM (dX = dA W_ih);</li>
 *   <li>threads: all parallel work runs on {@link #threads()} threads of our own (the caller's and threads - 1
 *   workers). The recurrences of the two directions of a bidirectional layer run concurrently, and a batch of at
 *   least 64 rows is split into chunks of at least 32 rows that run their whole recurrence independently (rows are
 *   independent sequences: no synchronisation per step). The large GEMMs are split by output rows. OpenBLAS is set
 *   to one thread: its own workers spin between calls and, on a busy machine, stall each small per-step GEMM;</li>
 *   <li>buffers live in a {@link FastCpuWorkspace} that is reused by every call that fits it and replaced (not
 *   added to) when a larger call comes, so memory is bounded by the largest call; no buffer is allocated per step.</li>
 * </ul>
 *
 * Masking follows DESIGN.md: a row past its sequence's length is inactive at that step: its state carries over, its
 * output is zero, and it contributes no gradient. A training forward holds its workspace until its output is closed.
 */
public final class FastCpuBackend implements LstmBackend {
    private final LstmSpec spec;
    private final int threads;
    private final RecurrentGemm gemm;
    /**
     * Whether the per-step GEMMs run on {@link PackedGemm}: asked for ({@link RecurrentGemm#PACKED}) and the
     * preferred vector holds at least 8 floats (AVX2, AVX-512). It measured faster than OpenBLAS at every shape of
     * the suite (2 to 64 rows per chunk; see the class comment); with 4-float vectors it is not measured, so OpenBLAS
     * stays there.
     */
    private final boolean packed;
    /**
     * Whether a step's GEMM may take the input projection in too: packed GEMMs, and every layer's packed
     * [W_ih W_hh] small beside one core's L2 cache ({@link #fusedWeightsFitInCache}).
     */
    private final boolean fusedSteps;
    /** Whether a lone recurrence on one thread fuses its steps too ({@link #loneRecurrenceFuses}). */
    private final boolean loneFuses;
    /**
     * Whether the weight gradients dW_ih = dA^T X and dW_hh = dA^T H_prev run on {@link PackedGemm} (dA^T packed
     * by row blocks, chunk by chunk) instead of OpenBLAS: packed GEMMs, and 4H a multiple of the kernel's row
     * block. One core, Zen 4, both gradients with their packing against OpenBLAS: seed-mnist 6.6-6.9 against
     * 8.4-8.7 ms, ptb-small 2.49 against 2.71, ptb-medium 44.9-46.3 against 49.4-50.2, large-batch about 202 against
     * 214 (the sum of its measured parts: the product at 106 GFLOP/s in 1024-row slabs of k, 8 ms packing dA, 4 ms
     * packing X and H).
     */
    private final boolean packedGradients;
    private final FastCpuWorkspace.Layout layout;
    private final RecurrentStep step;
    private final PipelinedLayers pipeline; // null where the layers never run as a pipeline
    private final FrozenPacks frozenPacks = new FrozenPacks();
    private final WorkspacePool pool;
    private final CpuThreads threadPool;
    private volatile Set<String> lastThreads = Set.of();

    /** @param threads threads for our own work and for OpenBLAS, >= 1; per-step GEMMs {@link RecurrentGemm#PACKED} */
    public FastCpuBackend(LstmSpec spec, int threads) {
        this(spec, threads, RecurrentGemm.PACKED);
    }

    /**
     * @param threads threads for our own work and for OpenBLAS, >= 1
     * @param gemm    where the per-step GEMMs run
     */
    public FastCpuBackend(LstmSpec spec, int threads, RecurrentGemm gemm) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        OpenBlas.loadFailure().ifPresent(why -> {
            throw new IllegalStateException("the fast CPU backend needs OpenBLAS: " + why);
        });
        if (gemm == null) {
            throw new IllegalArgumentException("gemm: expected packed or blas, got null");
        }
        this.spec = spec;
        this.threads = threads;
        this.gemm = gemm;
        this.packed = gemm == RecurrentGemm.PACKED && PackedGemm.USABLE;
        this.step = new RecurrentStep(spec, new FusedPointwise(spec));
        this.fusedSteps = packed && fusedWeightsFitInCache(spec);
        this.loneFuses = loneRecurrenceFuses(spec, CacheSize.l2Bytes());
        this.packedGradients = packed && 4 * spec.hiddenSize() % PackedGemm.MR == 0;
        boolean pipelines = fusedSteps && pipelines(spec, threads);
        this.layout = pipelines ? FastCpuWorkspace.Layout.PIPELINED
                : fusedSteps ? FastCpuWorkspace.Layout.FUSED : FastCpuWorkspace.Layout.PLAIN;
        // one idle workspace per core at most: a service runs at most about that many calls at once (more request
        // threads than cores only oversubscribe them), and each then finds one ready
        int maxIdle = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.pool = new WorkspacePool(spec, chunksPerDirection(), layout, gradientParts(), maxIdle);
        this.threadPool = new CpuThreads(threads);
        this.pipeline = pipelines ? new PipelinedLayers(spec, step, threadPool, threads, frozenPacks) : null;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    public int threads() {
        return threads;
    }

    /** Where this backend was asked to run its per-step GEMMs. */
    public RecurrentGemm gemm() {
        return gemm;
    }

    /** Bytes held by this backend's workspaces (idle or in use). */
    public long workspaceBytes() {
        return pool.bytes();
    }

    /** Workspaces this backend has made so far (for tests: concurrent calls should reuse theirs). */
    int workspacesCreated() {
        return pool.created();
    }

    /** Whether the weight gradients run on the packed kernel (see the field; for tests). */
    boolean packedGradients() {
        return packedGradients;
    }

    /** The parts that the packed weight gradients may run in (one buffer each in a training workspace); 0 without. */
    int gradientParts() {
        return packedGradients ? threads : 0;
    }

    /** How many packed weight arrays of frozen parameters this backend has made (for tests). */
    int frozenPackCount() {
        return frozenPacks.packedCount();
    }

    /** Names of the threads that did the last call's parallel work (for tests and diagnostics). */
    Set<String> lastThreads() {
        return lastThreads;
    }

    @Override
    public void close() {
        try {
            pool.close();
        } finally {
            threadPool.close();
        }
    }

    /** The most batch chunks per direction: the recurrences of different batch rows are independent. */
    private int chunksPerDirection() {
        return Math.max(1, threads / spec.numDirections());
    }

    /**
     * Batch chunks per direction for a batch: at least {@value #MIN_CHUNK_ROWS} rows each. Each chunk's per-step
     * GEMM packs the whole recurrent weight matrix again, and below about 32 rows that packing, not the
     * arithmetic, sets its time (OpenBLAS single-threaded, this machine: [20 x 650] x [650 x 2600] takes 0.89 ms,
     * [10 x 650] x [650 x 2600] 0.82 ms), so smaller chunks would only double the work. With the packed GEMM (W_hh
     * packed once per call) a batch of 64 split by columns instead of into 2 chunks was no clear win either
     * (large-batch inference 88-90 against 93-95 ms, seed-mnist 5-15 % slower), so the split stays. On the Zen 4
     * VM the column split lost at large-batch too (inference 115-116 against 113 ms). Nor did smaller chunks win
     * with the packed GEMM: at B = 20 on 2 threads, chunks of 12 and 8 rows instead of the per-step team (no
     * barriers, but each thread reads all of W_hh every step) gave ptb-medium inference 56.0-56.5 against 55.9-62.3
     * ms, training 181-183 against 178-179, and ptb-large inference 355-404 against 317-328 (36 MB of W_hh).
     */
    private int chunks(int batch) {
        return Math.max(1, Math.min(chunksPerDirection(), batch / MIN_CHUNK_ROWS));
    }

    private static final int MIN_CHUNK_ROWS = 32;

    /**
     * Runs the recurrence of every direction over every batch chunk: one task per (direction, chunk of rows), with
     * no synchronisation between steps (the rows of a batch are independent sequences).
     */
    private void forEachChunk(int batch, ChunkTask task, Set<String> ran) {
        int dirs = spec.numDirections();
        int chunks = chunks(batch);
        if (threads == 1) {
            // one thread (then chunks == 1): the directions one after the other, here
            threadPool.parallel(1, k -> {
                for (int d = 0; d < dirs; d++) task.run(d, 0, batch, 0);
            }, ran);
            return;
        }
        threadPool.parallel(dirs * chunks, k -> {
            int d = k / chunks;
            int c = k % chunks;
            task.run(d, c * batch / chunks, (c + 1) * batch / chunks, c);
        }, ran);
    }

    @FunctionalInterface
    private interface ChunkTask {
        /** Direction d, batch rows b0..b1-1, chunk index k. */
        void run(int d, int b0, int b1, int k);
    }

    // ---------------------------------------------------------------- forward

    /** What a training forward keeps for backward; closing it hands the workspace back. */
    private final class Saved implements AutoCloseable {
        final FastCpuWorkspace ws;
        final int seqLength;
        final int batch;
        final int[] lengths; // null: every sequence is full length
        private boolean released;

        Saved(FastCpuWorkspace ws, int seqLength, int batch, int[] lengths) {
            this.ws = ws;
            this.seqLength = seqLength;
            this.batch = batch;
            this.lengths = lengths;
        }

        synchronized void requireOpen() {
            if (released) {
                throw new IllegalStateException("forward output: already closed; backward needs it open");
            }
        }

        @Override
        public synchronized void close() {
            if (!released) {
                released = true;
                pool.release(ws);
            }
        }
    }

    @Override
    public LstmOutput forward(LstmParams params, LstmInput in) {
        requireFloat32(params);
        int seqLength = in.seqLength(spec);
        int batch = in.batchSize(spec);
        int rows = Math.multiplyExact(seqLength, batch);
        int dirs = spec.numDirections();
        int p = spec.outputSize();
        int h = spec.hiddenSize();
        int width = dirs * p;
        boolean training = in.isTraining();
        int[] given = in.hasLengths() ? in.lengths() : null;
        int[] lengths = given != null && allFull(given, seqLength) ? null : given;

        Arena arena = Arena.ofShared();
        FastCpuWorkspace ws = null;
        boolean handedOver = false;
        try {
            Tensor output = Tensor.zeros(arena, DType.FLOAT32, LstmShapes.outputShape(spec, seqLength, batch));
            Tensor hN = Tensor.zeros(arena, DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor cN = Tensor.zeros(arena, DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            FastCpuWorkspace work = pool.acquire(batch, rows, training);
            ws = work;
            OpenBlas.setThreads(1); // all parallelism is ours: OpenBLAS's spinning workers would compete with it
            Set<String> ran = ConcurrentHashMap.newKeySet();

            // copied: backward reads it later, other threads read it now (the caller's arena may be confined)
            MemorySegment x = ws.x0;
            if (spec.batchFirst()) {
                transpose(in.input().segment(), x, batch, seqLength, spec.inputSize());
            } else {
                MemorySegment.copy(in.input().segment(), 0, x, 0, (long) rows * spec.inputSize() * Float.BYTES);
            }
            int xLd = spec.inputSize();
            SplittableRandom dropoutRandom = new SplittableRandom(in.dropoutSeed());
            if (pipelined(batch)) {
                x = forwardPipelined(params, work, in, seqLength, batch, lengths, output, hN, cN, dropoutRandom, ran);
            } else {
                for (int l = 0; l < spec.numLayers(); l++) {
                    if (l > 0 && training && spec.dropout() > 0) {
                        applyDropout(dropoutRandom, x, ws.dropMask[l], ws.dropIn[l], (long) rows * width);
                        x = ws.dropIn[l];
                    }
                    boolean last = l == spec.numLayers() - 1;
                    MemorySegment out = last && !spec.batchFirst() ? output.segment()
                            : ws.layerOut[training ? l : l % 2];
                    int layer = l;
                    MemorySegment layerX = x;
                    int xStride = xLd;
                    boolean fused = fusesSteps(batch);
                    if (!fused) {
                        projectInput(params, work, layer, rows, layerX, xStride, ran);
                    }
                    for (int d = 0; d < dirs; d++) {
                        combineBias(params, l, d, ws.dir(l, d).bias);
                        loadState(in.h0(), l, d, batch, p, ws.dir(l, d).hState);
                        loadState(in.c0(), l, d, batch, h, ws.dir(l, d).cState);
                    }
                    int colParts = packWeights(params, work, layer, batch, false, fused, ran);
                    MemorySegment stepX = fused ? layerX : null;
                    forEachChunk(batch, (d, b0, b1, k) -> recurForward(params, work, layer, d, seqLength, batch,
                            b0, b1, lengths, stepX, xStride, out, training, colParts, ran), ran);
                    for (int d = 0; d < dirs; d++) {
                        storeState(ws.dir(l, d).hState, l, d, batch, p, hN);
                        storeState(ws.dir(l, d).cState, l, d, batch, h, cN);
                    }
                    x = out;
                    xLd = width;
                }
            }
            if (spec.batchFirst()) {
                transpose(x, output.segment(), seqLength, batch, width);
            }
            lastThreads = Set.copyOf(ran);
            Saved saved = training ? new Saved(ws, seqLength, batch, lengths) : null;
            LstmOutput result = new LstmOutput(arena, output, hN, cN, in, saved);
            handedOver = true;
            return result;
        } finally {
            if (!handedOver) {
                arena.close();
            }
            if (ws != null && (!training || !handedOver)) {
                pool.release(ws);
            }
        }
    }

    /**
     * The recurrence of layer l, direction d: reads the input projection in g (or, with fused steps, the layer's
     * input x [T*B, xLd] and computes g_t = [x_t h_{t-1}] [W_ih W_hh]^T each step) and the initial state in hState
     * and cState; leaves the final state there. Touches only the workspace and the parameters (both shared memory):
     * it may run on a second thread, and a caller's tensors may live in a confined arena.
     *
     * @param x null unless the steps are fused (then the weights are packed fused and colParts is 1)
     */
    private void recurForward(LstmParams params, FastCpuWorkspace ws, int l, int d, int seqLength, int batch,
                              int b0, int b1, int[] lengths, MemorySegment x, int xLd, MemorySegment out,
                              boolean training, int colParts, Set<String> ran) {
        FastCpuWorkspace.Dir dir = ws.dir(l, d);
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        int width = spec.numDirections() * p;
        int rows = b1 - b0;
        boolean proj = spec.projSize() > 0;
        MemorySegment g = dir.g[l];
        MemorySegment whh = params.weightHh(l, d).segment();
        MemorySegment whr = proj ? params.weightHr(l, d).segment() : null;
        MemorySegment peep = spec.peepholes() ? params.weightPeep(l, d).segment() : null;
        long hOff = (long) b0 * p;                 // chunk's first row in the [B, P] state
        long hBytes = (long) rows * p * Float.BYTES;
        boolean[] active = lengths == null ? null : dir.active;
        boolean gemv = gemvSteps(batch, params.isFrozen());
        // per-step column split: a team whose workers stay between steps (see CpuThreads.team)
        try (CpuThreads.Team team = colParts > 1 ? threadPool.team(colParts, ran) : null) {
            TeamStep parts = team != null ? new TeamStep(team, dir, l, whh, peep, training, active) : null;
            for (int s = 0; s < seqLength; s++) {
                int t = d == 0 ? s : seqLength - 1 - s;
                long row0 = (long) t * batch + b0;     // first sequence row of this chunk at step t
                if (active != null) {
                    for (int b = b0; b < b1; b++) active[b] = t < lengths[b];
                }
                MemorySegment hp = dir.hState;
                long hpOff = hOff;
                if (training) {
                    hp = dir.hPrev[l];
                    hpOff = row0 * p;
                    MemorySegment.copy(dir.hState, hOff * Float.BYTES, hp, hpOff * Float.BYTES, hBytes);
                }
                if (x != null) {
                    if (gemv) { // one row: [x_t h] [W_ih W_hh]^T as two sgemv
                        OneRowStep.forward(params.weightIh(l, d).segment(), spec.layerInputSize(l), whh, p, 4 * h, x,
                                row0 * xLd, dir.hState, hOff, g, row0 * 4 * h);
                    } else {
                        fusedStepGemm(dir, rows, x, row0, spec.layerInputSize(l), xLd, b0, g, row0 * 4 * h);
                    }
                } else if (colParts > 0) {
                    // g[t] += h_prev W_hh^T, [rows, P] x [P, 4H] with W_hh packed once per call (one row: sgemv)
                    stepGemm(dir, whh, false, rows, hp, hpOff, b0, g, row0 * 4 * h, parts, gemv);
                } else {
                    OpenBlas.sgemm(false, true, rows, 4 * h, p, 1f, hp, hpOff, p, whh, 0, p, 1f, g, row0 * 4 * h,
                            4 * h);
                }
                long outOff = row0 * width + (long) d * p;
                if (parts != null && !proj) {
                    // the team's threads take the pointwise step by rows too (rows are independent)
                    parts.forward(rows, row0, b0, out, outOff, width);
                } else {
                    step.forward(dir, l, whr, peep, rows, row0, b0, out, outOff, width, training, active);
                }
            }
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn,
                                  Tensor gradCn) {
        requireFloat32(params);
        Saved saved = forward.saved(Saved.class);
        saved.requireOpen();
        FastCpuWorkspace ws = saved.ws;
        LstmInput in = forward.input();
        int seqLength = saved.seqLength;
        int batch = saved.batch;
        int rows = seqLength * batch;
        int dirs = spec.numDirections();
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        int width = dirs * p;
        boolean proj = spec.projSize() > 0;

        LstmParams grads = LstmParams.zeros(spec, DType.FLOAT32);
        Arena arena = Arena.ofShared();
        boolean handedOver = false;
        try {
            Tensor dInput = Tensor.zeros(arena, DType.FLOAT32, in.input().shape());
            Tensor dh0 = Tensor.zeros(arena, DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor dc0 = Tensor.zeros(arena, DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            OpenBlas.setThreads(1); // all parallelism is ours: OpenBLAS's spinning workers would compete with it
            Set<String> ran = ConcurrentHashMap.newKeySet();

            MemorySegment dOut;
            if (gradOutput == null) {
                dOut = ws.dGradA;
                dOut.asSlice(0, (long) rows * width * Float.BYTES).fill((byte) 0);
            } else if (spec.batchFirst()) {
                dOut = ws.dGradA;
                transpose(gradOutput.segment(), dOut, batch, seqLength, width);
            } else {
                // copied: the reverse direction reads it on another thread, and the caller's arena may be confined
                dOut = ws.dGradA;
                MemorySegment.copy(gradOutput.segment(), 0, dOut, 0, (long) rows * width * Float.BYTES);
            }
            if (pipelined(batch)) {
                backwardPipelined(params, grads, saved, gradHn, gradCn, dOut, dInput, dh0, dc0, ran);
            } else {
                for (int l = spec.numLayers() - 1; l >= 0; l--) {
                    int layer = l;
                    MemorySegment layerDOut = dOut;
                    for (int d = 0; d < dirs; d++) {
                        loadState(gradHn, l, d, batch, p, ws.dir(l, d).dhState);
                        loadState(gradCn, l, d, batch, h, ws.dir(l, d).dcState);
                    }
                    for (int d = 0; d < dirs; d++) ws.dir(l, d).dPeep.fill((byte) 0); // every accumulator
                    int layerIn = spec.layerInputSize(l);
                    MemorySegment dX;
                    if (l == 0) {
                        dX = spec.batchFirst() ? (dOut == ws.dGradA ? ws.dGradB : ws.dGradA) : dInput.segment();
                    } else {
                        dX = dOut == ws.dGradA ? ws.dGradB : ws.dGradA;
                    }
                    // fused steps as in forward: each step's GEMM gives dx_t beside dh_{t-1}, the reverse
                    // direction's into a buffer of its own, added to the forward one's after
                    boolean fused = fusesSteps(batch);
                    int colParts = packWeights(params, ws, layer, batch, true, fused, ran);
                    MemorySegment forwardDX = fused ? dX : null;
                    MemorySegment reverseDX = fused ? ws.dXReverse : null;
                    forEachChunk(batch, (d, b0, b1, k) -> recurBackward(params, ws, saved.lengths, layer, d, seqLength,
                            batch, b0, b1, k, layerDOut, d == 0 ? forwardDX : reverseDX, colParts, ran), ran);
                    for (int d = 0; d < dirs; d++) {
                        storeState(ws.dir(l, d).dhState, l, d, batch, p, dh0);
                        storeState(ws.dir(l, d).dcState, l, d, batch, h, dc0);
                    }

                    weightGradients(grads, ws, l, rows, layerInput(ws, l), ran);
                    MemorySegment dXf = dX;
                    int rowParts = threadPool.partsFor(rows);
                    if (fused && dirs == 2) threadPool.parallel(rowParts, k -> {
                        int r0 = CpuThreads.cut(rows, rowParts, k);
                        int r1 = CpuThreads.cut(rows, rowParts, k + 1);
                        long at = (long) r0 * layerIn;
                        VectorMath.add(dXf, at, ws.dXReverse, at, dXf, at, (r1 - r0) * layerIn);
                    }, ran);
                    if (!fused) threadPool.parallel(rowParts, k -> {
                        int r0 = CpuThreads.cut(rows, rowParts, k);
                        int r1 = CpuThreads.cut(rows, rowParts, k + 1);
                        for (int d = 0; d < dirs; d++) {
                            OpenBlas.sgemm(false, false, r1 - r0, layerIn, 4 * h, 1f, ws.dir(layer, d).dA,
                                    (long) r0 * 4 * h,
                                    4 * h, params.weightIh(layer, d).segment(), 0, layerIn, d == 0 ? 0f : 1f, dXf,
                                    (long) r0 * layerIn, layerIn);
                        }
                    }, ran);
                    if (l > 0 && spec.dropout() > 0) {
                        multiply(dX, ws.dropMask[l], (long) rows * layerIn);
                    }
                    dOut = dX;
                }
                if (spec.batchFirst()) {
                    transpose(dOut, dInput.segment(), seqLength, batch, spec.inputSize());
                }
            }
            lastThreads = Set.copyOf(ran);
            LstmGradients result = new LstmGradients(arena, dInput, dh0, dc0, grads);
            handedOver = true;
            return result;
        } finally {
            if (!handedOver) {
                arena.close();
                grads.close();
            }
        }
    }

    /**
     * Backward through the recurrence of layer l, direction d: reads dL/d(output) of the layer in dOut (workspace
     * memory) and dL/dh_n, dL/dc_n in dhState, dcState; leaves dL/dh0, dL/dc0 there and the pre-activation gradients
     * in dA. With dX [T*B, I_l] (fused steps, B = [W_ih W_hh] packed), each step's GEMM also writes dx_t there;
     * null: dh_{t-1} only. Like {@link #recurForward}, touches only shared memory.
     */
    private void recurBackward(LstmParams params, FastCpuWorkspace ws, int[] lengths, int l, int d, int seqLength,
                               int batch, int b0, int b1, int chunk, MemorySegment dOut, MemorySegment dX,
                               int colParts, Set<String> ran) {
        FastCpuWorkspace.Dir dir = ws.dir(l, d);
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        int width = spec.numDirections() * p;
        int rows = b1 - b0;
        boolean proj = spec.projSize() > 0;
        MemorySegment whh = params.weightHh(l, d).segment();
        MemorySegment whr = proj ? params.weightHr(l, d).segment() : null;
        MemorySegment peep = spec.peepholes() ? params.weightPeep(l, d).segment() : null;
        long hOff = (long) b0 * p;
        long peepOff = 3L * h * chunk;              // this chunk's peephole-gradient accumulator (zeroed by the caller)
        boolean[] active = lengths == null ? null : dir.active;
        boolean gemv = gemvSteps(batch, params.isFrozen());
        // per-step column split: a team whose workers stay between steps (see CpuThreads.team)
        try (CpuThreads.Team team = colParts > 1 ? threadPool.team(colParts, ran) : null) {
            TeamStep parts = team != null ? new TeamStep(team, dir, l, whh, peep, true, active) : null;
            for (int s = seqLength - 1; s >= 0; s--) {
                int t = d == 0 ? s : seqLength - 1 - s;
                long row0 = (long) t * batch + b0;
                if (active != null) {
                    for (int b = b0; b < b1; b++) active[b] = t < lengths[b];
                }
                long outOff = row0 * width + (long) d * p;
                step.gradientOfM(dir, whr, rows, row0, b0, dOut, outOff, width, active);
                if (parts != null) {
                    // by rows over the team; part q accumulates peephole gradients in accumulator q (chunk is 0)
                    parts.backward(rows, row0, b0);
                } else {
                    step.backward(dir, l, peep, rows, row0, b0, peepOff, active);
                }
                if (dX != null) {
                    fusedBackwardStepGemm(params.weightIh(l, d).segment(), whh, dir, rows, row0, b0, dX,
                            spec.layerInputSize(l), active, gemv);
                    continue;
                }
                // dh_prev = dA W_hh, [rows, 4H] x [4H, P]
                MemorySegment dhPrev = active == null ? dir.dhState : dir.tmpP;
                if (colParts > 0) {
                    stepGemm(dir, whh, true, rows, dir.dA, row0 * 4 * h, b0, dhPrev, hOff, parts, gemv);
                } else {
                    OpenBlas.sgemm(false, false, rows, p, 4 * h, 1f, dir.dA, row0 * 4 * h, 4 * h, whh, 0, p,
                            0f, dhPrev, hOff, p);
                }
                if (active != null) {
                    Rows.copy(dir.tmpP, hOff, p, dir.dhState, hOff, p, rows, active, b0);
                }
            }
        }
    }

    /**
     * The weight gradients of layer l from the whole sequence at once: dW_ih = dA^T X, dW_hh = dA^T H_prev,
     * db = dA^T 1, dW_hr = dH^T M, each split by output rows across the threads; dW_ih and dW_hh on the packed
     * kernel where {@link #packedGradients}. x [rows, I_l] is the layer's input, dense.
     */
    private void weightGradients(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x,
                                 Set<String> ran) {
        int gates = 4 * spec.hiddenSize();
        int parts = threadPool.partsFor(gates);
        if (packedGradients) {
            packedWeightGradients(grads, ws, l, rows, x, parts, ran);
        } else {
            threadPool.parallel(parts, k -> {
                int m0 = CpuThreads.cut(gates, parts, k);
                int m1 = CpuThreads.cut(gates, parts, k + 1);
                for (int d = 0; d < spec.numDirections(); d++) {
                    FastCpuWorkspace.Dir dir = ws.dir(l, d);
                    blasWeightProducts(grads, dir, l, d, rows, x, m0, m1);
                    biasAndProjectionGradients(grads, ws, dir, l, d, rows, m0, m1, k == 0);
                }
            }, ran);
        }
        gatherWeightGradients(grads, ws, l);
    }

    /**
     * The weight gradients of layer l of a pipeline (one direction), all on the calling thread: what the stage of
     * layer l does when its backward ends, while the stages below are still running theirs. A thread then takes a
     * whole layer's products, which costs no fork and join per layer and lets the first stage to finish start
     * first. x [rows, I_l] is the layer's input, dense; the packed products use the layer's own buffers.
     */
    private void stageWeightGradients(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x) {
        int gates = 4 * spec.hiddenSize();
        FastCpuWorkspace.Dir dir = ws.dir(l, 0);
        if (packedGradients) {
            FastCpuWorkspace.GradientBuffers buffers = ws.gradients(l);
            int layerIn = spec.layerInputSize(l);
            int p = spec.outputSize();
            PackedGemm.packPlain(x, layerIn, null, 0, rows, buffers.packedX, 0, PackedGemm.coveringPanels(layerIn));
            PackedGemm.packPlain(dir.hPrev[l], p, null, 0, rows, buffers.packedH, 0, PackedGemm.coveringPanels(p));
            packedWeightProducts(grads, dir, buffers, buffers.chunks[0], l, 0, rows, 0, gates);
        } else {
            blasWeightProducts(grads, dir, l, 0, rows, x, 0, gates);
        }
        biasAndProjectionGradients(grads, ws, dir, l, 0, rows, 0, gates, true);
        gatherWeightGradients(grads, ws, l);
    }

    /** dW_ih and dW_hh rows m0..m1-1 of layer l, direction d, on OpenBLAS (this thread). */
    private void blasWeightProducts(LstmParams grads, FastCpuWorkspace.Dir dir, int l, int d, int rows,
                                    MemorySegment x, int m0, int m1) {
        int gates = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        OpenBlas.sgemm(true, false, m1 - m0, layerIn, rows, 1f, dir.dA, m0, gates, x, 0, layerIn,
                0f, grads.weightIh(l, d).segment(), (long) m0 * layerIn, layerIn);
        OpenBlas.sgemm(true, false, m1 - m0, p, rows, 1f, dir.dA, m0, gates, dir.hPrev[l], 0, p,
                0f, grads.weightHh(l, d).segment(), (long) m0 * p, p);
    }

    /** After the products of layer l: db_hh = db_ih, and dW_peep as the sum of its accumulators. */
    private void gatherWeightGradients(LstmParams grads, FastCpuWorkspace ws, int l) {
        int h = spec.hiddenSize();
        for (int d = 0; d < spec.numDirections(); d++) {
            FastCpuWorkspace.Dir dir = ws.dir(l, d);
            MemorySegment.copy(grads.biasIh(l, d).segment(), 0, grads.biasHh(l, d).segment(), 0,
                    4L * h * Float.BYTES);
            if (spec.peepholes()) {
                MemorySegment dp = grads.weightPeep(l, d).segment();
                // every accumulator: one per batch chunk, or one per team part of a single recurrence
                int accumulators = (int) (dir.dPeep.byteSize() / (3L * h * Float.BYTES));
                MemorySegment.copy(dir.dPeep, 0, dp, 0, 3L * h * Float.BYTES);
                for (int c = 1; c < accumulators; c++) {
                    VectorMath.add(dp, 0, dir.dPeep, 3L * h * c, dp, 0, 3 * h);
                }
            }
        }
    }

    /**
     * {@link #weightGradients} with dW_ih = dA^T X and dW_hh = dA^T H_prev on {@link PackedGemm}: X packed as B once,
     * and per direction H_prev (split across the threads), then both products by ranges of rows (gates), each part
     * packing its chunks of dA^T into its own buffer as it goes; db by GEMV and dW_hr on OpenBLAS as there.
     */
    private void packedWeightGradients(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x,
                                       int parts, Set<String> ran) {
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        int gates = 4 * spec.hiddenSize();
        int blocks = gates / PackedGemm.MR;
        int[] rowCut = new int[parts + 1]; // part k takes gate rows rowCut[k]..rowCut[k+1], whole row blocks
        for (int k = 0; k <= parts; k++) rowCut[k] = blocks * k / parts * PackedGemm.MR;
        int panelsX = PackedGemm.coveringPanels(layerIn);
        int panelsH = PackedGemm.coveringPanels(p);
        FastCpuWorkspace.GradientBuffers buffers = ws.gradients(0);
        for (int d = 0; d < spec.numDirections(); d++) {
            FastCpuWorkspace.Dir dir = ws.dir(l, d);
            int direction = d;
            // X is the same for both directions: packed with the first one's H_prev
            boolean packX = d == 0;
            threadPool.parallel(parts, k -> {
                if (packX) {
                    PackedGemm.packPlain(x, layerIn, null, 0, rows, buffers.packedX, panelsX * k / parts,
                            panelsX * (k + 1) / parts);
                }
                PackedGemm.packPlain(dir.hPrev[l], p, null, 0, rows, buffers.packedH, panelsH * k / parts,
                        panelsH * (k + 1) / parts);
            }, ran);
            threadPool.parallel(parts, k -> {
                packedWeightProducts(grads, dir, buffers, buffers.chunks[k], l, direction, rows, rowCut[k],
                        rowCut[k + 1]);
                biasAndProjectionGradients(grads, ws, dir, l, direction, rows, rowCut[k], rowCut[k + 1], k == 0);
            }, ran);
        }
    }

    /**
     * dW_ih and dW_hh rows r0..r1-1 (whole row blocks) of layer l, direction d, on {@link PackedGemm} (this thread),
     * from X and H_prev packed in buffers, with chunk for this thread's chunks of dA^T.
     */
    private void packedWeightProducts(LstmParams grads, FastCpuWorkspace.Dir dir,
                                      FastCpuWorkspace.GradientBuffers buffers, float[] chunk, int l, int d, int rows,
                                      int r0, int r1) {
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        int gates = 4 * spec.hiddenSize();
        MemorySegment wih = grads.weightIh(l, d).segment();  // [4H, I_l]
        MemorySegment whh = grads.weightHh(l, d).segment();  // [4H, P]
        long scratchOff = (long) r0 * PackedGemm.NR; // X's last panel at rows r0.., H's 4H rows further
        PackedGemm.multiplyTransposed(dir.dA, 0, gates, rows, r0, r1, chunk,
                new PackedGemm.Product(buffers.packedX, layerIn, wih, 0, layerIn, buffers.scratch, scratchOff),
                new PackedGemm.Product(buffers.packedH, p, whh, 0, p, buffers.scratch,
                        (long) gates * PackedGemm.NR + scratchOff));
    }

    /**
     * db_ih rows r0..r1-1 = dA^T 1 (a GEMV) and, where {@code withProjection} (one part), dW_hr = dH^T M: what both
     * ways of taking the weight gradients leave to OpenBLAS.
     */
    private void biasAndProjectionGradients(LstmParams grads, FastCpuWorkspace ws, FastCpuWorkspace.Dir dir, int l,
                                            int d, int rows, int r0, int r1, boolean withProjection) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        OpenBlas.sgemv(true, rows, r1 - r0, 1f, dir.dA, r0, 4 * h, ws.ones, 0, 0f, grads.biasIh(l, d).segment(), r0);
        if (spec.projSize() > 0 && withProjection) {
            OpenBlas.sgemm(true, false, p, h, rows, 1f, dir.dh, 0, p, dir.m[l], 0, h, 0f,
                    grads.weightHr(l, d).segment(), 0, h);
        }
    }

    // ---------------------------------------------------------------- pipelined layers

    /**
     * Whether this call runs its layers as a pipeline ({@link PipelinedLayers}): one direction, one batch chunk (a
     * batch too small to split), at least 2 layers and at least as many threads, but fewer than twice as many (from
     * there the per-step split over a team, which uses every thread, is likely ahead; not measured, as this VM has
     * 2 cores), and fused steps ({@link #fusedSteps}).
     */
    boolean pipelined(int batch) {
        return pipeline != null && chunks(batch) == 1;
    }

    private static boolean pipelines(LstmSpec spec, int threads) {
        int layers = spec.numLayers();
        return spec.numDirections() == 1 && layers >= 2 && layers <= threads && threads < 2 * layers;
    }

    /**
     * Whether every layer's packed [W_ih W_hh] (the larger of its two layouts) takes at most 3/2 of one core's L2
     * cache. Then a step's GEMM [x_t h_{t-1}] [W_ih W_hh]^T, which streams those weights once per step, runs from
     * L2 or close to it, and beats a whole-sequence input projection (which writes and reads back [T*B, 4H] through
     * memory) plus h W_hh^T per step. Measured at 2 threads on two VMs of this project's kind:
     * <ul>
     *   <li>Intel Xeon, 2 MiB L2 per core: seed-mnist inference (0.3 MB of weights) ~8 % faster fused; large-batch
     *   (6.3 MB) ~10 % slower; ptb-medium as a pipeline (13.5 MB per layer) 20 % slower than the per-step split,
     *   ptb-small (1.3 MB) faster;</li>
     *   <li>AMD Zen 4, 1 MiB L2 per core: ptb-small as a pipeline 3.53 against 3.87 ms (weights 1.3 times L2),
     *   ptb-medium as a pipeline 76-81 against 56 ms, large-batch fused within noise (108-113 against 111-116).</li>
     * </ul>
     * The bound of 3/2 L2 is the one that takes each of these on the faster side on both machines (3/4, the
     * earlier bound, left ptb-small on Zen 4 on the slower one).
     */
    static boolean fusedWeightsFitInCache(LstmSpec spec) {
        return fusedWeightsFitInCache(spec, CacheSize.l2Bytes());
    }

    /** {@link #fusedWeightsFitInCache(LstmSpec)} for a core with an L2 cache of l2Bytes. */
    static boolean fusedWeightsFitInCache(LstmSpec spec, long l2Bytes) {
        return fusedWeightBytes(spec) <= l2Bytes * 3 / 2;
    }

    /**
     * Whether a lone recurrence on one thread fuses its steps too: every layer's packed [W_ih W_hh] within half of
     * one L2 (against 3/2 of it for several recurrences). Time with fused steps over time without, one thread:
     * on Zen 4 (1 MiB L2; paired 1-s blocks in one JVM) seed-mnist (0.3 MB) training 0.933 and 0.944, inference
     * 0.996, ptb-small (1.3 MB) training 1.013, inference 0.999; on the Intel VM (2 MiB) seed-mnist gained 10 % and
     * ptb-small inference lost 8-12 %. Half of L2 takes seed-mnist in and leaves ptb-small out on both.
     */
    static boolean loneRecurrenceFuses(LstmSpec spec, long l2Bytes) {
        return fusedWeightBytes(spec) <= l2Bytes / 2;
    }

    /** Bytes of the largest layer's packed [W_ih W_hh], the larger of its forward and backward layouts. */
    private static long fusedWeightBytes(LstmSpec spec) {
        long largest = 0;
        for (int l = 0; l < spec.numLayers(); l++) {
            int k = spec.layerInputSize(l) + spec.outputSize();
            int h4 = 4 * spec.hiddenSize();
            long forward = (long) PackedGemm.coveringPanels(h4) * PackedGemm.NR * k;
            long backward = (long) PackedGemm.coveringPanels(k) * PackedGemm.NR * h4;
            largest = Math.max(largest, 4L * Math.max(forward, backward));
        }
        return largest;
    }

    /** The buffers this backend's calls need (for tests). */
    FastCpuWorkspace.Layout layout() {
        return layout;
    }

    /**
     * Whether a call of this batch fuses its steps: where several recurrences (directions, batch chunks) share the
     * threads and the weights fit ({@link #fusedWeightsFitInCache}). A lone recurrence on several threads splits each
     * step's W_hh GEMM over a team instead; on one thread it fuses where the weights fit half of L2
     * ({@link #loneRecurrenceFuses}) and keeps the whole-sequence products otherwise.
     */
    boolean fusesSteps(int batch) {
        return fusedSteps && (spec.numDirections() * chunks(batch) > 1 || threads == 1 && loneFuses);
    }

    /**
     * Whether a call of this batch runs its per-step products on OpenBLAS's sgemv ({@link OneRowStep}) instead of
     * the packed kernel, with the weights left as they are (nothing packed): a batch of one row, on every path (W_hh
     * alone, fused steps, the pipeline). A product with one row is a read of the weights, and sgemv reads them
     * faster than the packed kernel's one-row block reads its packed copy (Zen 4, one core, 1280 x 650, a service's
     * one sequence: 43 against 54.5 us with W_hh in cache, 61 against 85-89 with four such matrices in turn; level
     * at 512 x 128), with no packing before it (0.3-1.2 ms per 2600 x 650; 25-50 % of a one-row call of a small
     * two-layer LSTM). Not for frozen parameters whose weights are small enough to fuse ({@link #fusedSteps}):
     * those are packed once and kept, and there the packed one-row block was as fast or faster (two layers of 128,
     * 2 threads: sgemv took 1.10-1.15 times as long; level at two layers of 200 and one of 128).
     */
    boolean gemvSteps(int batch, boolean frozen) {
        return packed && batch == 1 && !(frozen && fusedSteps);
    }

    /** Whether {@link #projectInput} splits a projection of this many rows by columns (gates) rather than rows. */
    boolean projectsByColumns(int rows) {
        return rows < 4 * spec.hiddenSize();
    }

    /**
     * g = X W_ih^T for every direction of layer l, the whole sequence at once on OpenBLAS. x [rows, I_l] at leading
     * dimension xStride; g [rows, 4H] per direction.
     *
     * <p>OpenBLAS packs its B operand (W_ih^T) on every call, and each part of the split is a call of its own: split
     * by rows of X, every part packs all of W_ih [4H, I_l] and its own rows of X; split by columns (gates), every
     * part packs all of X's rows and its 1/parts of W_ih. The packing then totals parts * 4H * I_l + rows * I_l
     * floats against 4H * I_l + parts * rows * I_l, so the columns pay when rows < 4H. Measured on 2 threads
     * (paired blocks in one JVM, medians): one sequence of ptb-medium (35 rows against 2600) serving 7.43 -> 6.71
     * ms; 2 layers of H = 256, T = 20, B = 4 serving 1.40 -> 1.22; one layer of H = 128, T = 10, B = 8 inference
     * 0.335 -> 0.318; ptb-medium (700 rows), its bidirectional version and ptb-large within noise (ratios
     * 0.986-0.998); large-batch's 6400 rows (4H = 2048) stay split by rows, 1.6 % faster than by columns. The input
     * gradient dA W_ih stays split by rows: by columns (where rows < I_l) it measured no different, at one sequence
     * of ptb-medium's size in training (paired ratios 0.98-1.02 over three runs).
     */
    private void projectInput(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment x, int xStride,
                              Set<String> ran) {
        int h4 = 4 * spec.hiddenSize();
        int layerIn = spec.layerInputSize(l);
        int dirs = spec.numDirections();
        boolean byColumns = projectsByColumns(rows);
        int parts = threadPool.partsFor(byColumns ? h4 : rows);
        threadPool.parallel(parts, k -> {
            for (int d = 0; d < dirs; d++) {
                MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l]
                MemorySegment g = ws.dir(l, d).g[l];                // [rows, 4H]
                if (byColumns) {
                    int c0 = CpuThreads.cut(h4, parts, k);
                    int c1 = CpuThreads.cut(h4, parts, k + 1);
                    OpenBlas.sgemm(false, true, rows, c1 - c0, layerIn, 1f, x, 0, xStride, wih, (long) c0 * layerIn,
                            layerIn, 0f, g, c0, h4);
                } else {
                    int r0 = CpuThreads.cut(rows, parts, k);
                    int r1 = CpuThreads.cut(rows, parts, k + 1);
                    OpenBlas.sgemm(false, true, r1 - r0, h4, layerIn, 1f, x, (long) r0 * xStride, xStride, wih, 0,
                            layerIn, 0f, g, (long) r0 * h4, h4);
                }
            }
        }, ran);
    }

    /** The pipelined forward of every layer; returns the last layer's output [T*B, P] (time-major). */
    private MemorySegment forwardPipelined(LstmParams params, FastCpuWorkspace ws, LstmInput in, int seqLength,
                                           int batch, int[] lengths, Tensor output, Tensor hN, Tensor cN,
                                           SplittableRandom dropoutRandom, Set<String> ran) {
        int layers = spec.numLayers();
        int p = spec.outputSize();
        int h = spec.hiddenSize();
        boolean training = in.isTraining();
        long n = (long) seqLength * batch * p;
        if (training && spec.dropout() > 0) {
            for (int l = 1; l < layers; l++) dropoutMask(dropoutRandom, ws.dropMask[l], n);
        }
        MemorySegment[] outs = new MemorySegment[layers];
        for (int l = 0; l < layers; l++) {
            outs[l] = l == layers - 1 && !spec.batchFirst() ? output.segment() : ws.layerOut[l];
            combineBias(params, l, 0, ws.dir(l, 0).bias);
            loadState(in.h0(), l, 0, batch, p, ws.dir(l, 0).hState);
            loadState(in.c0(), l, 0, batch, h, ws.dir(l, 0).cState);
        }
        pipeline.forward(params, ws, seqLength, batch, lengths, outs, training, gemvSteps(batch, params.isFrozen()),
                ran);
        for (int l = 0; l < layers; l++) {
            storeState(ws.dir(l, 0).hState, l, 0, batch, p, hN);
            storeState(ws.dir(l, 0).cState, l, 0, batch, h, cN);
        }
        return outs[layers - 1];
    }

    /** The pipelined backward of every layer, each stage ending with its layer's weight gradients. */
    private void backwardPipelined(LstmParams params, LstmParams grads, Saved saved, Tensor gradHn, Tensor gradCn,
                                   MemorySegment dOut, Tensor dInput, Tensor dh0, Tensor dc0, Set<String> ran) {
        FastCpuWorkspace ws = saved.ws;
        int layers = spec.numLayers();
        int batch = saved.batch;
        int rows = saved.seqLength * batch;
        int p = spec.outputSize();
        int h = spec.hiddenSize();
        for (int l = 0; l < layers; l++) {
            FastCpuWorkspace.Dir dir = ws.dir(l, 0);
            loadState(gradHn, l, 0, batch, p, dir.dhState);
            loadState(gradCn, l, 0, batch, h, dir.dcState);
            dir.dPeep.fill((byte) 0);
        }
        pipeline.backward(params, ws, saved.seqLength, batch, saved.lengths, dOut, dInput.segment(),
                gemvSteps(batch, params.isFrozen()), l -> stageWeightGradients(grads, ws, l, rows, layerInput(ws, l)),
                ran);
        for (int l = 0; l < layers; l++) {
            storeState(ws.dir(l, 0).dhState, l, 0, batch, p, dh0);
            storeState(ws.dir(l, 0).dcState, l, 0, batch, h, dc0);
        }
    }

    /** What layer l read in training [rows, I_l]: the input, or the layer below's output after dropout. */
    private MemorySegment layerInput(FastCpuWorkspace ws, int l) {
        return l == 0 ? ws.x0 : spec.dropout() > 0 ? ws.dropIn[l] : ws.layerOut[l - 1];
    }

    // ---------------------------------------------------------------- packed recurrent GEMM

    /**
     * Packs W_hh of layer l (every direction; fused, [W_ih W_hh]) for {@link PackedGemm} when the packed path applies
     * to this batch, in the forward layout (B = W_hh^T) or the backward one (B = W_hh). Returns how many threads
     * split each step's GEMM by column panels (1 when the recurrences already occupy the threads), or 0 for OpenBLAS;
     * with {@link #gemvSteps} it packs nothing and returns how many split each step's sgemv by outputs.
     */
    private int packWeights(LstmParams params, FastCpuWorkspace ws, int l, int batch, boolean backward,
                            boolean fused, Set<String> ran) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        if (!packed) {
            return 0;
        }
        int recurrences = spec.numDirections() * chunks(batch);
        if (gemvSteps(batch, params.isFrozen())) {
            // sgemv on W_hh itself, split by its rows (forward) or columns (backward) over a lone recurrence's team
            int outputs = backward ? p : 4 * h;
            return recurrences == 1 ? Math.max(1, Math.min(threads, outputs / 16)) : 1;
        }
        int in = spec.layerInputSize(l);
        int n = backward ? (fused ? in + p : p) : 4 * h;
        // fused: B = [W_ih W_hh]^T (backward: [W_ih W_hh]) with its partial last panel; else the whole panels of
        // W_hh alone
        int panels = fused ? PackedGemm.coveringPanels(n) : PackedGemm.panels(n);
        int floats = fused ? PackedGemm.coveredSize(backward ? 4 * h : in + p, n)
                : PackedGemm.packedSize(backward ? 4 * h : p, n);
        String layout = fused ? (backward ? "fused plain" : "fused") : backward ? "plain" : "transposed";
        for (int d = 0; d < spec.numDirections(); d++) {
            MemorySegment w = params.weightHh(l, d).segment();      // [4H, P]
            MemorySegment wih = params.weightIh(l, d).segment();    // [4H, I]
            int parts = Math.max(1, Math.min(threads, panels));
            Consumer<float[]> pack = packed -> threadPool.parallel(parts, k -> {
                int j0 = panels * k / parts;
                int j1 = panels * (k + 1) / parts;
                if (fused && backward) {
                    PackedGemm.packPlain(wih, in, w, p, 4 * h, packed, j0, j1);
                } else if (fused) {
                    PackedGemm.packTransposed(wih, in, w, p, 4 * h, packed, j0, j1);
                } else if (backward) {
                    PackedGemm.packPlain(w, p, null, 0, 4 * h, packed, j0, j1);
                } else {
                    PackedGemm.packTransposed(w, p, null, 0, 4 * h, packed, j0, j1);
                }
            }, ran);
            frozenPacks.packInto(ws.dir(l, d), params, layout, l, d, floats, pack);
        }
        return recurrences == 1 ? Math.max(1, Math.min(threads, panels)) : 1;
    }

    /**
     * One fused step: g [rows, 4H] at gOff = [x_t h_{t-1}] [rows, I + P] x [W_ih W_hh]^T, with the rows of x
     * (sequence rows from row0, leading dimension xLd) and of hState (batch rows from b0) copied side by side to
     * the heap, and the partial last panel through the Dir's stepOut.
     */
    private void fusedStepGemm(FastCpuWorkspace.Dir dir, int rows, MemorySegment x, long row0, int in, int xLd, int b0,
                               MemorySegment g, long gOff) {
        int p = spec.outputSize();
        int h4 = 4 * spec.hiddenSize();
        int k = in + p;
        float[] a = dir.stepRows;
        int at = b0 * k;
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (row0 + r) * xLd * Float.BYTES, a, at + r * k, in);
            MemorySegment.copy(dir.hState, ValueLayout.JAVA_FLOAT, ((long) b0 + r) * p * Float.BYTES, a,
                    at + r * k + in, p);
        }
        PackedGemm.multiply(rows, h4, k, a, at, k, dir.whhPacked, false, g, gOff, h4, 0, PackedGemm.panels(h4));
        PackedGemm.multiplyLastPanel(rows, h4, k, a, at, k, dir.whhPacked, g, gOff, h4, dir.stepOut,
                (long) b0 * PackedGemm.NR);
    }

    /**
     * One fused backward step: [dx_t dh_{t-1}] [rows, I + P] = dA_t [rows, 4H] x [W_ih W_hh] [4H, I + P], every
     * covering panel (padded columns are zero) into the Dir's stepOut [B, ldo]; then dx_t to dX's rows from row0 and
     * dh_{t-1} to dhState's rows from b0. An inactive row's dA is zero, so its dx is too; its dh carries over. With
     * {@code gemv} (one row, {@link #gemvSteps}) the product runs on sgemv from W_ih and W_hh as they are.
     */
    private void fusedBackwardStepGemm(MemorySegment wih, MemorySegment whh, FastCpuWorkspace.Dir dir, int rows,
                                       long row0, int b0, MemorySegment dX, int in, boolean[] active, boolean gemv) {
        int p = spec.outputSize();
        int h4 = 4 * spec.hiddenSize();
        int ldo = PackedGemm.coveringPanels(in + p) * PackedGemm.NR;
        long outOff = (long) b0 * ldo;
        if (gemv) { // one row, on the weights as they are
            OneRowStep.backward(wih, in, whh, p, h4, dir.dA, row0 * h4, dir.stepOut, outOff);
        } else {
            float[] a = dir.stepRows;
            int at = b0 * h4;
            MemorySegment.copy(dir.dA, ValueLayout.JAVA_FLOAT, row0 * h4 * Float.BYTES, a, at, rows * h4);
            PackedGemm.multiply(rows, ldo, h4, a, at, h4, dir.whhPacked, false, dir.stepOut, outOff, ldo, 0,
                    PackedGemm.panels(ldo));
        }
        Rows.copy(dir.stepOut, outOff, ldo, dX, row0 * in, in, rows, null, 0);
        Rows.copy(dir.stepOut, outOff + in, ldo, dir.dhState, (long) b0 * p, p, rows, active, b0);
    }

    /**
     * One step's recurrent GEMM on the packed W_hh: forward ({@code backward} false) g [rows, 4H] += h [rows, P]
     * W_hh^T; backward dh [rows, P] = dA [rows, 4H] W_hh. A's rows (dense at aOff) are copied to the heap; the
     * whole panels are split over the team of {@code parts} (null: this thread alone; a team only when this
     * recurrence is the only one) and the last n mod NR columns, which are not packed, go to OpenBLAS on the last
     * part. With {@code gemv} ({@link #gemvSteps}: one row) it is sgemv on W_hh itself, split by outputs.
     */
    private void stepGemm(FastCpuWorkspace.Dir dir, MemorySegment whh, boolean backward, int rows, MemorySegment a,
                          long aOff, int b0, MemorySegment c, long cOff, TeamStep parts, boolean gemv) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        int n = backward ? p : h4;
        int k = backward ? h4 : p;
        float[] aRows = dir.stepRows;
        int at = b0 * k;
        if (!gemv) { // the packed kernel reads A from the heap; sgemv reads it where it is
            MemorySegment.copy(a, ValueLayout.JAVA_FLOAT, aOff * Float.BYTES, aRows, at, rows * k);
        }
        if (parts == null) {
            stepGemmPart(gemv, dir.whhPacked, whh, backward, rows, n, k, aRows, at, a, aOff, c, cOff, 0, 1);
        } else {
            parts.gemm(gemv, backward, rows, n, k, at, a, aOff, c, cOff);
        }
    }

    /**
     * The parts of one recurrence's steps on its team, as one object reused by every step: a lambda per step would
     * be an allocation per step. Each method sets the step's fields and runs the team on this.
     */
    private final class TeamStep implements java.util.function.IntConsumer {
        private static final int GEMM = 0;
        private static final int FORWARD = 1;
        private static final int BACKWARD = 2;
        private final CpuThreads.Team team;
        private final FastCpuWorkspace.Dir dir;
        private final int l;
        private final int parts;
        private final MemorySegment whh;
        private final MemorySegment peep;
        private final boolean training;
        private final boolean[] active;
        // the step's arguments, written by the leader before team.run (a volatile write) and read by the parts
        private int kind;
        private int rows;
        private long row0;
        private int b0;
        private boolean gemv;
        private boolean backward;
        private int n;
        private int k;
        private int at;
        private MemorySegment a;
        private long aOff;
        private MemorySegment c;
        private long cOff;
        private MemorySegment out;
        private long outOff;
        private int width;

        TeamStep(CpuThreads.Team team, FastCpuWorkspace.Dir dir, int l, MemorySegment whh, MemorySegment peep,
                 boolean training, boolean[] active) {
            this.team = team;
            this.dir = dir;
            this.l = l;
            this.parts = team.parts();
            this.whh = whh;
            this.peep = peep;
            this.training = training;
            this.active = active;
        }

        /** {@link #stepGemmPart}'s ranges: whole panels and the unpacked tail columns, or sgemv's outputs. */
        void gemm(boolean gemv, boolean backward, int rows, int n, int k, int at, MemorySegment a, long aOff,
                  MemorySegment c, long cOff) {
            this.kind = GEMM;
            this.gemv = gemv;
            this.backward = backward;
            this.rows = rows;
            this.n = n;
            this.k = k;
            this.at = at;
            this.a = a;
            this.aOff = aOff;
            this.c = c;
            this.cOff = cOff;
            team.run(this);
        }

        /** The forward pointwise step by rows (no projection). */
        void forward(int rows, long row0, int b0, MemorySegment out, long outOff, int width) {
            this.kind = FORWARD;
            this.rows = rows;
            this.row0 = row0;
            this.b0 = b0;
            this.out = out;
            this.outOff = outOff;
            this.width = width;
            team.run(this);
        }

        /** The backward pointwise step by rows; part q accumulates peephole gradients in accumulator q. */
        void backward(int rows, long row0, int b0) {
            this.kind = BACKWARD;
            this.rows = rows;
            this.row0 = row0;
            this.b0 = b0;
            team.run(this);
        }

        @Override
        public void accept(int q) {
            if (kind == GEMM) {
                stepGemmPart(gemv, dir.whhPacked, whh, backward, rows, n, k, dir.stepRows, at, a, aOff, c, cOff, q,
                        parts);
                return;
            }
            int r0 = rows * q / parts;
            int r1 = rows * (q + 1) / parts;
            if (kind == FORWARD) {
                step.forward(dir, l, null, peep, r1 - r0, row0 + r0, b0 + r0, out, outOff + (long) r0 * width,
                        width, training, active);
            } else {
                step.backward(dir, l, peep, r1 - r0, row0 + r0, b0 + r0, 3L * spec.hiddenSize() * q, active);
            }
        }
    }

    /**
     * Part q of parts of {@link #stepGemm}: its range of whole panels, and the unpacked tail columns if last; with
     * {@code gemv}, its range of outputs on sgemv ({@link OneRowStep#recurrentPart}).
     */
    private static void stepGemmPart(boolean gemv, float[] packed, MemorySegment whh, boolean backward, int rows,
                                     int n, int k, float[] aRows, int at, MemorySegment a, long aOff, MemorySegment c,
                                     long cOff, int q, int parts) {
        if (gemv) {
            OneRowStep.recurrentPart(whh, backward, n, k, a, aOff, c, cOff, q, parts);
            return;
        }
        int panels = PackedGemm.panels(n);
        PackedGemm.multiply(rows, n, k, aRows, at, k, packed, !backward, c, cOff, n, panels * q / parts,
                panels * (q + 1) / parts);
        int tail0 = panels * PackedGemm.NR;
        if (q == parts - 1 && tail0 < n) {
            if (backward) { // W_hh [k = 4H, n = P]: its last columns
                OpenBlas.sgemm(false, false, rows, n - tail0, k, 1f, a, aOff, k, whh, tail0, n, 0f, c, cOff + tail0, n);
            } else {        // W_hh [n = 4H, k = P]: its last rows, transposed
                OpenBlas.sgemm(false, true, rows, n - tail0, k, 1f, a, aOff, k, whh, (long) tail0 * k, k, 1f, c,
                        cOff + tail0, n);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private void requireFloat32(LstmParams params) {
        if (params.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("params: the fast CPU backend expects float32, got " + params.dtype());
        }
    }

    /** Entry (l, d) of a [D*L, B, w] state tensor into a workspace buffer; a null tensor gives zeros. */
    private void loadState(Tensor t, int l, int d, int batch, int w, MemorySegment dst) {
        long bytes = (long) batch * w * Float.BYTES;
        if (t == null) {
            dst.asSlice(0, bytes).fill((byte) 0);
        } else {
            MemorySegment.copy(t.segment(), (long) (l * spec.numDirections() + d) * bytes, dst, 0, bytes);
        }
    }

    private void storeState(MemorySegment src, int l, int d, int batch, int w, Tensor t) {
        long bytes = (long) batch * w * Float.BYTES;
        MemorySegment.copy(src, 0, t.segment(), (long) (l * spec.numDirections() + d) * bytes, bytes);
    }

    private static boolean allFull(int[] lengths, int seqLength) {
        for (int len : lengths) {
            if (len != seqLength) return false;
        }
        return true;
    }

    private void combineBias(LstmParams params, int l, int d, MemorySegment bias) {
        MemorySegment bih = params.biasIh(l, d).segment();
        MemorySegment bhh = params.biasHh(l, d).segment();
        long n = 4L * spec.hiddenSize();
        for (long k = 0; k < n; k++) {
            bias.setAtIndex(ValueLayout.JAVA_FLOAT, k, bih.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k)
                    + bhh.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k));
        }
    }

    /** Inverted dropout with the reference's random stream: element (t, b, k) kept with probability 1-p. */
    private void applyDropout(SplittableRandom random, MemorySegment x, MemorySegment mask, MemorySegment out, long n) {
        dropoutMask(random, mask, n);
        for (long k = 0; k < n; k++) {
            out.setAtIndex(ValueLayout.JAVA_FLOAT, k,
                    x.getAtIndex(ValueLayout.JAVA_FLOAT, k) * mask.getAtIndex(ValueLayout.JAVA_FLOAT, k));
        }
    }

    /** The next n mask values of the dropout stream: 1 / (1-p) with probability 1-p, else 0. */
    private void dropoutMask(SplittableRandom random, MemorySegment mask, long n) {
        double keep = 1.0 - spec.dropout();
        float scale = (float) (1.0 / keep);
        for (long k = 0; k < n; k++) {
            mask.setAtIndex(ValueLayout.JAVA_FLOAT, k, random.nextDouble() < keep ? scale : 0f);
        }
    }

    private static void multiply(MemorySegment a, MemorySegment mask, long n) {
        for (long k = 0; k < n; k++) {
            a.setAtIndex(ValueLayout.JAVA_FLOAT, k,
                    a.getAtIndex(ValueLayout.JAVA_FLOAT, k) * mask.getAtIndex(ValueLayout.JAVA_FLOAT, k));
        }
    }

    /** dst[r0 + c, k] = src[r0 * ... ] for a [outer, inner, w] -> [inner, outer, w] transpose of rows of w floats. */
    private static void transpose(MemorySegment src, MemorySegment dst, int outer, int inner, int w) {
        long rowBytes = (long) w * Float.BYTES;
        for (int a = 0; a < outer; a++) {
            for (int b = 0; b < inner; b++) {
                MemorySegment.copy(src, ((long) a * inner + b) * rowBytes, dst, ((long) b * outer + a) * rowBytes,
                        rowBytes);
            }
        }
    }
}
