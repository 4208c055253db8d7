package dev.lstm4j.cpu;

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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fast CPU LSTM, float32: a packed-weight Vector API kernel for the per-step matrix products, the input
 * projection, the input gradient and the weight gradients ({@link PackedGemm}), OpenBLAS for the other large
 * products (and for all of them with {@link RecurrentGemm#BLAS}), one fused Vector API pass for the pointwise part
 * of a step ({@link FusedPointwise}).
 *
 * <ul>
 *   <li>forward, per layer and direction: the input projection of all T steps in one GEMM ([T*B, I] x [I, 4H]; on
 *   the packed kernel, {@link WholeSequenceProducts}, where {@link FastCpuPlan#sequenceProductsOnPackedKernel}), then
 *   per step one recurrent GEMM ([B, P] x [P, 4H], added to the step's rows of the projection: in place on a
 *   team, else in a one-step buffer, {@link StepGemms#recurrentOnProjection}) and the fused pointwise pass (plus
 *   one GEMM for the projection h = W_hr m, on W_hr packed as W_hh is, {@link StepProjection});</li>
 *   <li>the per-step recurrent GEMMs (forward h W_hh^T, backward dA W_hh) run on W_hh packed once per call into
 *   column panels ({@link PackedGemm}) where the machine has vectors of at least 8 floats and
 *   {@link RecurrentGemm#PACKED} is chosen: OpenBLAS re-packs W_hh on every call, and with few rows that packing
 *   set the step's time (measured, single thread, the Intel VM: [20 x 650] x [650 x 2592] 0.83 ms OpenBLAS, 0.61 ms
 *   packed; [20 x 200] x [200 x 800] 0.067 / 0.045 ms; [32 x 512] x [512 x 2048] 0.67 / 0.55 ms;
 *   [64 x 128] x [128 x 512] 0.061 / 0.056 ms). The columns past the last whole panel go to OpenBLAS. A step of
 *   one row (a batch of one), on any path below, runs on OpenBLAS's sgemv from the weights as they are, unpacked,
 *   except on frozen parameters small enough to fuse, and so does a call of a few rows and steps on weights packed
 *   per call, a row at a time ({@link FastCpuPlan#gemvSteps}, {@link OneRowStep});</li>
 *   <li>fused steps: where every layer's packed [W_ih W_hh] is small beside a core's L2
 *   ({@link FastCpuPlan#fusedWeightsFitInCache}) and a layer has several recurrences (directions, batch chunks),
 *   or runs on one thread with those weights within half of L2 ({@link FastCpuPlan#loneRecurrenceFuses}), or is
 *   in batch chunks with weights that AMD processors stream from L3 ({@link FastCpuPlan#chunksFuseFromL3}), a step's
 *   GEMM is [x_t h_{t-1}] [W_ih W_hh]^T and there is no whole-sequence projection; a unidirectional multi-layer LSTM on
 *   one batch chunk runs its layers as a pipeline ({@link PipelinedLayers}, fused steps backward too). When a
 *   layer's recurrence is the only one otherwise (one direction, one batch chunk), each step's GEMM is split by
 *   column panels and its pointwise pass by rows over a {@link CpuThreads.Team};</li>
 *   <li>backward: per step the fused pointwise backward and one GEMM for dh of the previous step; then the weight
 *   gradients as whole-sequence GEMMs (dW_ih = dA^T X, dW_hh = dA^T H, dW_hr = dH^T M, db = dA^T 1; the first two
 *   on {@link PackedGemm} where {@link FastCpuPlan#packedGradients}) and the input gradient as one GEMM
 *   (dX = dA W_ih; on the packed kernel as the input projection is);</li>
 *   <li>threads: all parallel work runs on {@link #threads()} threads of our own (the caller's and threads - 1
 *   workers). The recurrences of the two directions of a bidirectional layer run concurrently, and a batch of at
 *   least 64 rows is split into chunks of at least 32 rows (rows are independent sequences: no synchronisation
 *   between chunks). Forward, a layer's recurrences go a step at a time over the threads, chunks in halves of at
 *   least 32 rows ({@link StepScheduler}): a thread done with its own steps takes a slower core's; backward, each
 *   chunk's recurrence runs whole on one thread. The large GEMMs are split by output rows. OpenBLAS is set
 *   to one thread: its own workers spin between calls and, on a busy machine, stall each small per-step GEMM;</li>
 *   <li>buffers live in a {@link FastCpuWorkspace} that is reused by every call that fits it and replaced (not
 *   added to) when a larger call comes, so memory is bounded by the largest call; no buffer is allocated per step.</li>
 * </ul>
 *
 * Masking follows DESIGN.md: a row past its sequence's length is inactive at that step: its state carries over, its
 * output is zero, and it contributes no gradient. A training forward holds its workspace until its output is closed.
 *
 * <p>This class runs forward and backward layer by layer and each recurrence's steps; which path a call takes is
 * {@link FastCpuPlan}'s rule, the packing and each step's products are {@link StepGemms}', a lone recurrence's team
 * step {@link TeamStep}'s, the pointwise part {@link RecurrentStep}'s, the weight gradients {@link WeightGradients}',
 * and the layer pipeline {@link PipelinedLayers}'.
 */
public final class FastCpuBackend implements LstmBackend {
    static {
        HeapSegmentKinds.load(); // before any kernel is compiled
    }

    private final LstmSpec spec;
    private final int threads;
    private final RecurrentGemm gemm;
    private final FastCpuPlan plan;
    private final RecurrentStep step;
    private final StepGemms stepGemms;
    private final WeightGradients weightGradients;
    /** The whole-sequence products with W_ih on the packed kernel, or null where they run on OpenBLAS. */
    private final WholeSequenceProducts sequenceProducts;
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
        this.plan = new FastCpuPlan(spec, threads, gemm, CacheSize.l2Bytes());
        this.step = new RecurrentStep(spec, new FusedPointwise(spec), new StepProjection(spec, frozenPacks));
        // one idle workspace per core at most: a service runs at most about that many calls at once (more request
        // threads than cores only oversubscribe them), and each then finds one ready
        int maxIdle = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.pool = new WorkspacePool(spec, plan.chunksPerDirection(), plan.layout(), gradientParts(),
                plan.everyCallFuses(), productParts(), maxIdle);
        this.threadPool = new CpuThreads(threads);
        this.stepGemms = new StepGemms(spec, plan, threads, threadPool, frozenPacks);
        this.weightGradients = new WeightGradients(spec, threadPool, plan.packedGradients());
        this.sequenceProducts = plan.sequenceProductsOnPackedKernel()
                ? new WholeSequenceProducts(spec, threadPool, frozenPacks, CacheSize.l2Bytes()) : null;
        this.pipeline = plan.pipelines() ? new PipelinedLayers(spec, step, stepGemms, threadPool, threads) : null;
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

    /** Which path each call takes (for tests). */
    FastCpuPlan plan() {
        return plan;
    }

    /** The parts that the packed weight gradients may run in (one buffer each in a training workspace); 0 without. */
    int gradientParts() {
        return plan.packedGradients() ? threads : 0;
    }

    /** Whether a call of this many sequence rows takes its products with W_ih on the packed kernel. */
    private boolean packedSequenceProducts(LstmParams params, int rows) {
        return sequenceProducts != null && WholeSequenceProducts.takes(params, rows);
    }

    /** The parts of the whole-sequence products on the packed kernel (buffers in each workspace); 0 without. */
    int productParts() {
        return plan.sequenceProductsOnPackedKernel() ? threads : 0;
    }

    /** The layouts of the packed weight arrays of frozen parameters this backend has made (for tests). */
    List<String> frozenPackLayouts() {
        return frozenPacks.packedLayouts();
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

    /**
     * Runs the recurrence of every direction over every batch chunk: one task per (direction, chunk of rows), with
     * no synchronisation between steps (the rows of a batch are independent sequences).
     */
    private void forEachChunk(int batch, ChunkTask task, Set<String> ran) {
        int dirs = spec.numDirections();
        int chunks = plan.chunks(batch);
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
                // the output was closed by another thread after backward took this from it
                throw new IllegalStateException("forward output: expected an open output, got one already closed "
                        + "(backward needs it open: close it after the backward call)");
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
    public LstmOutput forward(LstmParams params, LstmInput in, ResultArena results) {
        LstmShapes.checkParams(spec, DType.FLOAT32, params);
        LstmShapes.checkInput(spec, DType.FLOAT32, in); // its memory is read as float32 rows
        int seqLength = in.seqLength(spec);
        int batch = in.batchSize(spec);
        int rows = Math.multiplyExact(seqLength, batch);
        int width = spec.numDirections() * spec.outputSize();
        boolean training = in.isTraining();
        int[] given = in.hasLengths() ? in.lengths() : null;
        int[] lengths = given != null && allFull(given, seqLength) ? null : given;

        FastCpuWorkspace ws = null;
        boolean handedOver = false;
        try {
            // written whole below (padded steps' outputs as zeros, every layer's and direction's final state)
            Tensor outputResult = results.uninitialized(DType.FLOAT32,
                    LstmShapes.outputShape(spec, seqLength, batch));
            Tensor hNResult = results.uninitialized(DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor cNResult = results.uninitialized(DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            Tensor output = results.writableByAnyThread(outputResult);
            Tensor hN = results.writableByAnyThread(hNResult);
            Tensor cN = results.writableByAnyThread(cNResult);
            ws = pool.acquire(batch, rows, training);
            OpenBlas.setThreads(1); // all parallelism is ours: OpenBLAS's spinning workers would compete with it
            Set<String> ran = ConcurrentHashMap.newKeySet();

            MemorySegment x = stepInput(in, ws, seqLength, batch);
            SplittableRandom dropoutRandom = new SplittableRandom(in.dropoutSeed());
            if (plan.pipelined(batch)) {
                x = forwardPipelined(params, ws, in, x, seqLength, batch, lengths, output, hN, cN, dropoutRandom,
                        ran);
            } else {
                x = forwardByLayer(params, ws, in, x, seqLength, batch, lengths, output, hN, cN, dropoutRandom, ran);
            }
            if (spec.batchFirst()) {
                transpose(x, output.segment(), seqLength, batch, width);
            }
            lastThreads = Set.copyOf(ran);
            Saved saved = training ? new Saved(ws, seqLength, batch, lengths) : null;
            LstmOutput result = new LstmOutput(results, outputResult, hNResult, cNResult, in, saved);
            handedOver = true;
            return result;
        } finally {
            if (!handedOver) {
                results.close();
            }
            if (ws != null && (!training || !handedOver)) {
                pool.release(ws);
            }
        }
    }

    /**
     * The input [T*B, I], time-major, as the layers read it: in inference the caller's own memory where it is
     * ({@link #readsInputInPlace}), otherwise a copy in ws.x0 (backward reads it later, when the caller may have
     * changed or closed it). seed-mnist's copy took 32 us of a 3.6-ms inference call; without it (paired 0.5-s
     * blocks in one JVM) seed-mnist inference took 0.971 and 0.992 of the time, large-batch 0.978.
     */
    private MemorySegment stepInput(LstmInput in, FastCpuWorkspace ws, int seqLength, int batch) {
        MemorySegment given = in.input().segment();
        if (readsInputInPlace(in.input(), in.isTraining(), spec.batchFirst())) {
            // a confined arena's segment is its owner's (this thread's) alone to read: the workers read it through a
            // view for the call, as they write results
            return in.input().isAccessibleByAnyThread() ? given : ResultArena.viewForTheCall(given);
        }
        if (spec.batchFirst()) {
            transpose(given, ws.x0, batch, seqLength, spec.inputSize());
        } else {
            MemorySegment.copy(given, 0, ws.x0, 0, (long) seqLength * batch * spec.inputSize() * Float.BYTES);
        }
        return ws.x0;
    }

    /**
     * Whether inference reads this input where it is rather than a copy: native memory (OpenBLAS takes no other)
     * aligned for floats (the kernels' float reads need it), time-major, that every thread may read or that is
     * confined to the calling thread (see {@link #stepInput}). Never in training, whose backward reads the input
     * after the call returns.
     */
    static boolean readsInputInPlace(Tensor input, boolean training, boolean batchFirst) {
        MemorySegment given = input.segment();
        return !training && !batchFirst && given.isNative() && given.address() % Float.BYTES == 0
                && (input.isAccessibleByAnyThread() || given.isAccessibleBy(Thread.currentThread()));
    }

    /**
     * The forward of every layer in turn, each layer's recurrences (directions, batch chunks) concurrently; returns
     * the last layer's output [T*B, D*P] (time-major). x [T*B, I] is the input ({@link #stepInput}).
     */
    private MemorySegment forwardByLayer(LstmParams params, FastCpuWorkspace ws, LstmInput in, MemorySegment x,
                                         int seqLength, int batch, int[] lengths, Tensor output, Tensor hN,
                                         Tensor cN, SplittableRandom dropoutRandom, Set<String> ran) {
        int rows = seqLength * batch;
        int dirs = spec.numDirections();
        int p = spec.outputSize();
        int h = spec.hiddenSize();
        int width = dirs * p;
        boolean training = in.isTraining();
        boolean zeroStart = in.h0() == null;
        int xLd = spec.inputSize();
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
            boolean fused = plan.fusesSteps(batch);
            if (!fused) {
                projectInput(params, ws, layer, rows, layerX, xStride, ran);
            }
            for (int d = 0; d < dirs; d++) {
                combineBias(params, l, d, ws.dir(l, d).bias);
                loadState(in.h0(), l, d, batch, p, ws.dir(l, d).hState);
                loadState(in.c0(), l, d, batch, h, ws.dir(l, d).cState);
            }
            boolean readsWhh = fused || seqLength > 1 || !zeroStart; // else the one step is the input projection
            int colParts = stepGemms.packLayer(params, ws, layer, batch, seqLength, false, fused, readsWhh, ran);
            prepareProjections(params, ws, layer, batch, seqLength, false);
            MemorySegment stepX = fused ? layerX : null;
            if (threads > 1 && plan.recurrences(batch) > 1) {
                forwardStepByStep(params, ws, layer, seqLength, batch, lengths, stepX, xStride, out, training,
                        colParts, zeroStart, ran);
            } else {
                forEachChunk(batch, (d, b0, b1, k) -> recurForward(params, ws, layer, d, seqLength, batch,
                        b0, b1, lengths, stepX, xStride, out, training, colParts, zeroStart, ran), ran);
            }
            for (int d = 0; d < dirs; d++) {
                storeState(ws.dir(l, d).hState, l, d, batch, p, hN);
                storeState(ws.dir(l, d).cState, l, d, batch, h, cN);
            }
            x = out;
            xLd = width;
        }
        return x;
    }

    /**
     * W_hr of layer l packed for its steps' projection in every direction, where the steps' recurrent products run on
     * the packed kernel ({@link StepGemms#packLayer}'s rule), else the projection on OpenBLAS.
     */
    private void prepareProjections(LstmParams params, FastCpuWorkspace ws, int l, int batch, int seqLength,
                                    boolean backward) {
        boolean packed = plan.packed() && !plan.gemvSteps(batch, seqLength, params.isFrozen());
        for (int d = 0; d < spec.numDirections(); d++) {
            step.prepareProjection(params, ws.dir(l, d), l, d, backward, packed);
        }
    }

    /**
     * Layer l's recurrences (directions, batch chunks, each chunk in halves where they keep
     * {@value FastCpuPlan#MIN_CHUNK_ROWS} rows) a step at a time over the threads ({@link StepScheduler}): a thread done
     * with its own chunk's steps takes the next steps of a slower one's. Each chunk's halves are at home on the thread
     * that would run the whole chunk. Products of 32 rows run as fast as of 64 ([32 x 156] x [156 x 512] 226-236
     * GFLOP/s against 218-229, one core).
     */
    private void forwardStepByStep(LstmParams params, FastCpuWorkspace ws, int l, int seqLength, int batch,
                                   int[] lengths, MemorySegment x, int xLd, MemorySegment out, boolean training,
                                   int colParts, boolean zeroStart, Set<String> ran) {
        int dirs = spec.numDirections();
        int chunks = plan.chunks(batch);
        int split = Math.max(1, Math.min(2, batch / chunks / FastCpuPlan.MIN_CHUNK_ROWS));
        int pieces = chunks * split;
        int parts = Math.min(threads, dirs * chunks);
        ForwardRecurrence[] recurrences = new ForwardRecurrence[dirs * pieces];
        int[] home = new int[recurrences.length];
        try {
            for (int d = 0; d < dirs; d++) {
                for (int k = 0; k < pieces; k++) {
                    int r = d * pieces + k;
                    home[r] = (d * chunks + k / split) % parts;
                    recurrences[r] = new ForwardRecurrence(params, ws, l, d, seqLength, batch, k * batch / pieces,
                            (k + 1) * batch / pieces, lengths, x, xLd, out, training, colParts, zeroStart, ran);
                }
            }
            StepScheduler.run(threadPool, parts, recurrences, home, seqLength, ran);
        } finally {
            for (ForwardRecurrence r : recurrences) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    /**
     * The recurrence of layer l, direction d: reads the input projection in g (or, with fused steps, the layer's
     * input x [T*B, xLd] and computes g_t = [x_t h_{t-1}] [W_ih W_hh]^T each step) and the initial state in hState
     * and cState; leaves the final state there. Touches only the workspace and the parameters (both shared memory):
     * it may run on a second thread, and a caller's tensors may live in a confined arena.
     *
     * @param x         null unless the steps are fused (then the weights are packed fused and colParts is 1)
     * @param zeroStart no initial h was given: the first step's h_{t-1} is zero, and its product with W_hh is
     *                  skipped (in the reverse direction too: a row shorter than the sequence starts later, from
     *                  zero, and is masked until then)
     */
    private void recurForward(LstmParams params, FastCpuWorkspace ws, int l, int d, int seqLength, int batch,
                              int b0, int b1, int[] lengths, MemorySegment x, int xLd, MemorySegment out,
                              boolean training, int colParts, boolean zeroStart, Set<String> ran) {
        try (ForwardRecurrence r = new ForwardRecurrence(params, ws, l, d, seqLength, batch, b0, b1, lengths, x, xLd,
                out, training, colParts, zeroStart, ran)) {
            for (int s = 0; s < seqLength; s++) {
                r.step(s);
            }
        }
    }

    /** {@link #recurForward}'s recurrence, a step at a time ({@link StepScheduler}); close it when done. */
    private final class ForwardRecurrence implements StepScheduler.Recurrence, AutoCloseable {
        private final FastCpuWorkspace.Dir dir;
        private final int l;
        private final int d;
        private final int seqLength;
        private final int batch;
        private final int b0;
        private final int b1;
        private final int[] lengths;
        private final MemorySegment x;            // [T*B, xLd], fused steps only
        private final int xLd;
        private final MemorySegment out;          // [T*B, D*P]
        private final boolean training;
        private final int colParts;
        private final boolean zeroStart;
        private final MemorySegment wih;          // [4H, I_l]
        private final MemorySegment whh;          // [4H, P]
        private final MemorySegment whr;          // [P, H] or null
        private final MemorySegment peep;         // [3H] or null
        private final boolean[] active;
        private final boolean gemv;
        private final CpuThreads.Team team;       // per-step column split, or null
        private final TeamStep parts;

        ForwardRecurrence(LstmParams params, FastCpuWorkspace ws, int l, int d, int seqLength, int batch, int b0,
                          int b1, int[] lengths, MemorySegment x, int xLd, MemorySegment out, boolean training,
                          int colParts, boolean zeroStart, Set<String> ran) {
            this.dir = ws.dir(l, d);
            this.l = l;
            this.d = d;
            this.seqLength = seqLength;
            this.batch = batch;
            this.b0 = b0;
            this.b1 = b1;
            this.lengths = lengths;
            this.x = x;
            this.xLd = xLd;
            this.out = out;
            this.training = training;
            this.colParts = colParts;
            this.zeroStart = zeroStart;
            this.wih = params.weightIh(l, d).segment();
            this.whh = params.weightHh(l, d).segment();
            this.whr = spec.projSize() > 0 ? params.weightHr(l, d).segment() : null;
            this.peep = spec.peepholes() ? params.weightPeep(l, d).segment() : null;
            this.active = lengths == null ? null : dir.active;
            this.gemv = plan.gemvSteps(batch, seqLength, params.isFrozen());
            // per-step column split: a team whose workers stay between steps (see CpuThreads.team)
            this.team = colParts > 1 ? threadPool.team(colParts, ran) : null;
            this.parts = team != null
                    ? new TeamStep(team, step, spec.hiddenSize(), dir, l, whh, whr, peep, training, active) : null;
        }

        @Override
        public void step(int s) {
            int h = spec.hiddenSize();
            int p = spec.outputSize();
            int width = spec.numDirections() * p;
            int rows = b1 - b0;
            long hOff = (long) b0 * p;                 // chunk's first row in the [B, P] state
            MemorySegment g = dir.g[l];
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
                MemorySegment.copy(dir.hState, hOff * Float.BYTES, hp, hpOff * Float.BYTES,
                        (long) rows * p * Float.BYTES);
            }
            MemorySegment gates = x != null ? RecurrentStep.fusedGates(dir, l, training) : g;
            long gOff = x != null ? (long) b0 * 4 * h : row0 * 4 * h;
            boolean zeroState = zeroStart && s == 0;
            if (x != null) {
                stepGemms.fusedForward(wih, whh, dir, spec.layerInputSize(l), rows, x, row0, xLd, b0, gates, gOff,
                        gemv, zeroState);
            } else if (!zeroState) { // from a zero state g[t] is the input projection alone
                if (colParts > 0 && parts == null) {
                    // gStep's rows = h_prev W_hh^T + g[t], W_hh packed once per call (gemv: sgemv a row)
                    gates = dir.gStep;
                    gOff = (long) b0 * 4 * h;
                    stepGemms.recurrentOnProjection(dir, whh, rows, hp, hpOff, b0, g, row0 * 4 * h, gates, gOff,
                            gemv);
                } else if (colParts > 0) {
                    // g[t] += h_prev W_hh^T over the team
                    stepGemms.recurrent(dir, whh, false, rows, hp, hpOff, b0, g, row0 * 4 * h, parts, gemv);
                } else {
                    OpenBlas.sgemm(false, true, rows, 4 * h, p, 1f, hp, hpOff, p, whh, 0, p, 1f, g,
                            row0 * 4 * h, 4 * h);
                }
            }
            long outOff = row0 * width + (long) d * p;
            if (parts != null) {
                // the team's threads take the pointwise step (and projection) by rows too (rows are independent)
                parts.forward(rows, row0, b0, gOff, out, outOff, width);
            } else {
                step.forward(dir, l, whr, peep, rows, row0, b0, gates, gOff, out, outOff, width, training, active);
            }
        }

        @Override
        public void close() {
            if (team != null) {
                team.close();
            }
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn,
                                  Tensor gradCn, ResultArena results) {
        LstmShapes.checkParams(spec, DType.FLOAT32, params);
        Saved saved = forward.saved(Saved.class);
        saved.requireOpen();
        FastCpuWorkspace ws = saved.ws;
        LstmInput in = forward.input();
        int seqLength = saved.seqLength;
        int batch = saved.batch;
        LstmShapes.checkGradients(spec, DType.FLOAT32, seqLength, batch, gradOutput, gradHn, gradCn);
        int rows = seqLength * batch;
        int width = spec.numDirections() * spec.outputSize();

        boolean handedOver = false;
        try {
            // every element written below: each weight gradient whole by its products, db_hh as a copy of db_ih, and
            // dW_peep as a copy of the first accumulator plus the rest
            LstmParams gradsResult = LstmParams.uninitialized(spec, DType.FLOAT32, results);
            Tensor dInputResult = results.zeros(DType.FLOAT32, in.input().shape());
            Tensor dh0Result = results.zeros(DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch));
            Tensor dc0Result = results.zeros(DType.FLOAT32, LstmShapes.cellStateShape(spec, batch));
            LstmParams grads = gradsResult.writableByAnyThread(results);
            Tensor dInput = results.writableByAnyThread(dInputResult);
            Tensor dh0 = results.writableByAnyThread(dh0Result);
            Tensor dc0 = results.writableByAnyThread(dc0Result);
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
            if (plan.pipelined(batch)) {
                backwardPipelined(params, grads, saved, gradHn, gradCn, dOut, dInput, dh0, dc0, ran);
            } else {
                backwardByLayer(params, grads, saved, gradHn, gradCn, dOut, dInput, dh0, dc0, ran);
            }
            lastThreads = Set.copyOf(ran);
            LstmGradients result = new LstmGradients(results, dInputResult, dh0Result, dc0Result, gradsResult);
            handedOver = true;
            return result;
        } finally {
            if (!handedOver) {
                results.close();
            }
        }
    }

    /**
     * The backward of every layer in turn, last to first, each layer's recurrences concurrently and then its weight
     * gradients and input gradient; dOut [T*B, D*P] (time-major, workspace memory) is the last layer's output
     * gradient.
     */
    private void backwardByLayer(LstmParams params, LstmParams grads, Saved saved, Tensor gradHn, Tensor gradCn,
                                 MemorySegment dOut, Tensor dInput, Tensor dh0, Tensor dc0, Set<String> ran) {
        FastCpuWorkspace ws = saved.ws;
        int seqLength = saved.seqLength;
        int batch = saved.batch;
        int rows = seqLength * batch;
        int dirs = spec.numDirections();
        int h = spec.hiddenSize();
        int p = spec.outputSize();
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
            boolean fused = plan.fusesSteps(batch);
            int colParts = stepGemms.packLayer(params, ws, layer, batch, seqLength, true, fused, true, ran);
            prepareProjections(params, ws, layer, batch, seqLength, true);
            MemorySegment forwardDX = fused ? dX : null;
            MemorySegment reverseDX = fused ? ws.dXReverse : null;
            forEachChunk(batch, (d, b0, b1, k) -> recurBackward(params, ws, saved.lengths, layer, d, seqLength,
                    batch, b0, b1, k, layerDOut, d == 0 ? forwardDX : reverseDX, colParts, ran), ran);
            for (int d = 0; d < dirs; d++) {
                storeState(ws.dir(l, d).dhState, l, d, batch, p, dh0);
                storeState(ws.dir(l, d).dcState, l, d, batch, h, dc0);
            }

            weightGradients.ofLayer(grads, ws, l, rows, layerInput(ws, l), ran);
            MemorySegment dXf = dX;
            int rowParts = threadPool.partsFor(rows);
            if (fused && dirs == 2) threadPool.parallel(rowParts, k -> {
                int r0 = CpuThreads.cut(rows, rowParts, k);
                int r1 = CpuThreads.cut(rows, rowParts, k + 1);
                long at = (long) r0 * layerIn;
                VectorMath.add(dXf, at, ws.dXReverse, at, dXf, at, (r1 - r0) * layerIn);
            }, ran);
            if (!fused && packedSequenceProducts(params, rows)) {
                sequenceProducts.inputGradient(params, ws, layer, rows, dX, ran);
            } else if (!fused) threadPool.parallel(rowParts, k -> {
                int r0 = CpuThreads.cut(rows, rowParts, k);
                int r1 = CpuThreads.cut(rows, rowParts, k + 1);
                for (int d = 0; d < dirs; d++) {
                    OpenBlas.sgemm(false, false, r1 - r0, layerIn, 4 * h, 1f, ws.dir(layer, d).dA,
                            (long) r0 * 4 * h, 4 * h, params.weightIh(layer, d).segment(), 0, layerIn,
                            d == 0 ? 0f : 1f, dXf, (long) r0 * layerIn, layerIn);
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
        MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l]
        MemorySegment whh = params.weightHh(l, d).segment();
        MemorySegment whr = proj ? params.weightHr(l, d).segment() : null;
        MemorySegment peep = spec.peepholes() ? params.weightPeep(l, d).segment() : null;
        long hOff = (long) b0 * p;
        long peepOff = 3L * h * chunk;              // this chunk's peephole-gradient accumulator (zeroed by the caller)
        boolean[] active = lengths == null ? null : dir.active;
        boolean gemv = plan.gemvSteps(batch, seqLength, params.isFrozen());
        // per-step column split: a team whose workers stay between steps (see CpuThreads.team)
        try (CpuThreads.Team team = colParts > 1 ? threadPool.team(colParts, ran) : null) {
            TeamStep parts = team != null ? new TeamStep(team, step, h, dir, l, whh, whr, peep, true, active) : null;
            for (int s = seqLength - 1; s >= 0; s--) {
                int t = d == 0 ? s : seqLength - 1 - s;
                long row0 = (long) t * batch + b0;
                if (active != null) {
                    for (int b = b0; b < b1; b++) active[b] = t < lengths[b];
                }
                long outOff = row0 * width + (long) d * p;
                if (parts != null) {
                    // by rows over the team; part q accumulates peephole gradients in accumulator q (chunk is 0)
                    parts.backward(rows, row0, b0, dOut, outOff, width);
                } else {
                    step.gradientOfM(dir, whr, rows, row0, b0, dOut, outOff, width, active);
                    step.backward(dir, l, peep, rows, row0, b0, peepOff, active);
                }
                if (dX != null) {
                    // [dx_t dh_{t-1}] into stepOut; an inactive row's dA is zero, so its dx is too; its dh carries
                    // over
                    int in = spec.layerInputSize(l);
                    stepGemms.fusedBackward(wih, whh, dir, in, rows, row0, b0, gemv);
                    int ldo = StepGemms.fusedBackwardWidth(in, p);
                    Rows.copy(dir.stepOut, (long) b0 * ldo, ldo, dX, row0 * in, in, rows, null, 0);
                    Rows.copy(dir.stepOut, (long) b0 * ldo + in, ldo, dir.dhState, hOff, p, rows, active, b0);
                    continue;
                }
                // dh_prev = dA W_hh, [rows, 4H] x [4H, P]
                MemorySegment dhPrev = active == null ? dir.dhState : dir.tmpP;
                if (colParts > 0) {
                    stepGemms.recurrent(dir, whh, true, rows, dir.dA, row0 * 4 * h, b0, dhPrev, hOff, parts, gemv);
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
     * g = X W_ih^T for every direction of layer l, the whole sequence at once: on the packed kernel where the plan
     * says so and the call takes it there ({@link WholeSequenceProducts#takes}), else on OpenBLAS, split by columns
     * (gates) or rows as {@link FastCpuPlan#projectsByColumns} says. x [rows, I_l] at leading dimension xStride;
     * g [rows, 4H] per direction.
     */
    private void projectInput(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment x, int xStride,
                              Set<String> ran) {
        if (packedSequenceProducts(params, rows)) {
            sequenceProducts.project(params, ws, l, rows, x, xStride, ran);
            return;
        }
        int h4 = 4 * spec.hiddenSize();
        int layerIn = spec.layerInputSize(l);
        int dirs = spec.numDirections();
        boolean byColumns = plan.projectsByColumns(rows);
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
    private MemorySegment forwardPipelined(LstmParams params, FastCpuWorkspace ws, LstmInput in, MemorySegment x,
                                           int seqLength, int batch, int[] lengths, Tensor output, Tensor hN,
                                           Tensor cN, SplittableRandom dropoutRandom, Set<String> ran) {
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
        pipeline.forward(params, ws, x, seqLength, batch, lengths, outs, training,
                plan.gemvSteps(batch, seqLength, params.isFrozen()), in.h0() == null, ran);
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
        PipelineGradients gradients = new PipelineGradients(
                weightGradients.forPipeline(grads, ws, rows, l -> layerInput(ws, l)), layers, 4 * h);
        pipeline.backward(params, ws, saved.seqLength, batch, saved.lengths, dOut, dInput.segment(),
                plan.gemvSteps(batch, saved.seqLength, params.isFrozen()), gradients::afterSteps, ran);
        for (int l = 0; l < layers; l++) {
            storeState(ws.dir(l, 0).dhState, l, 0, batch, p, dh0);
            storeState(ws.dir(l, 0).dcState, l, 0, batch, h, dc0);
        }
    }

    /** What layer l read in training [rows, I_l]: the input, or the layer below's output after dropout. */
    private MemorySegment layerInput(FastCpuWorkspace ws, int l) {
        return l == 0 ? ws.x0 : spec.dropout() > 0 ? ws.dropIn[l] : ws.layerOut[l - 1];
    }

    // ---------------------------------------------------------------- helpers

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
