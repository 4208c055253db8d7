package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;

/**
 * Which path each call of the fast CPU backend takes, decided from its spec, its thread count, where its per-step
 * GEMMs were asked to run and the size of a core's L2 cache, then from each call's batch: the batch chunks, fused
 * steps, the layer pipeline, one-row steps on sgemv, packed weight gradients, the split of the input projection.
 * Every rule here was measured on the project's VMs; the measurements are beside each.
 */
final class FastCpuPlan {
    /**
     * The fewest rows of a batch chunk. Each chunk's per-step GEMM packs the whole recurrent weight matrix again,
     * and below about 32 rows that packing, not the arithmetic, sets its time (OpenBLAS single-threaded, this
     * machine: [20 x 650] x [650 x 2600] takes 0.89 ms, [10 x 650] x [650 x 2600] 0.82 ms), so smaller chunks would
     * only double the work. With the packed GEMM (W_hh packed once per call) a batch of 64 split by columns instead
     * of into 2 chunks was no clear win either (large-batch inference 88-90 against 93-95 ms, seed-mnist 5-15 %
     * slower), so the split stays. On the Zen 4 VM the column split lost at large-batch too (inference 115-116
     * against 113 ms). Nor did smaller chunks win with the packed GEMM: at B = 20 on 2 threads, chunks of 12 and 8
     * rows instead of the per-step team (no barriers, but each thread reads all of W_hh every step) gave ptb-medium
     * inference 56.0-56.5 against 55.9-62.3 ms, training 181-183 against 178-179, and ptb-large inference 355-404
     * against 317-328 (36 MB of W_hh). On the Zen 5 VM they do win where W_hh fits L3: see
     * {@link #MIN_CHUNK_ROWS_FROM_L3}.
     */
    static final int MIN_CHUNK_ROWS = 32;

    /**
     * The fewest rows of a batch chunk on 2 threads where each chunk's steps read W_hh from L3
     * ({@link #chunksReadWhhFromL3}): two chunks of 10 rows or more, each on its own thread with no wait between
     * steps, instead of each step split over a team, which waits for its slower thread twice a step. Each thread
     * then reads all of W_hh every step instead of half, from L3. Zen 5 VM, 2 threads, T = 35, time with over time
     * without (paired 1-s blocks in one JVM, both orders): two layers of 650 (ptb-medium's shape), B = 20 inference
     * 0.935-0.983 over six runs, training 0.924, 0.947, 0.964 and 1.021, frozen parameters 0.992; B = 26
     * 0.956, B = 30 0.995; two layers of 400 (whose chunks then fuse, {@link #chunksFuseFromL3}) inference 0.857,
     * training 0.820; two layers of 256 0.915; one layer of 512 on inputs of 256, T = 100, 0.904. Chunks of fewer
     * rows measured either way: of 6 rows (B = 12) 0.82-0.86, of 5 0.973, of 7 1.22 (the packed kernel takes two of
     * 7 rows singly), of 8 0.956, of 9 1.013, of 2 to 4 1.5-1.8 (too few rows for each read of W_hh); from 10 rows a
     * chunk's rows go in blocks of 4 to 8. ptb-large's shape (36 MB of W_hh, from memory) was 1.105 as slow. On more
     * threads the team keeps each step (two chunks would leave threads idle; more chunks, each reading all of W_hh,
     * are not measured on this 2-core VM).
     */
    static final int MIN_CHUNK_ROWS_FROM_L3 = 10;

    private final LstmSpec spec;
    private final int threads;
    /**
     * Whether the per-step GEMMs run on {@link PackedGemm}: asked for ({@link RecurrentGemm#PACKED}) and the
     * preferred vector holds at least 8 floats (AVX2, AVX-512). It measured faster than OpenBLAS at every shape of
     * the suite (2 to 64 rows per chunk; see {@link FastCpuBackend}); with 4-float vectors it is not measured, so
     * OpenBLAS stays there.
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
     * Whether batch chunks fuse their steps though the weights pass {@link #fusedWeightsFitInCache}
     * ({@link #chunksFuseFromL3}).
     */
    private final boolean chunksFuse;
    /**
     * Whether the weight gradients dW_ih = dA^T X and dW_hh = dA^T H_prev run on {@link PackedGemm} (dA^T packed
     * by row blocks, chunk by chunk) instead of OpenBLAS: packed GEMMs, and 4H a multiple of the kernel's row
     * block. One core, Zen 4, both gradients with their packing against OpenBLAS: seed-mnist 6.6-6.9 against
     * 8.4-8.7 ms, ptb-small 2.49 against 2.71, ptb-medium 44.9-46.3 against 49.4-50.2, large-batch about 202 against
     * 214 (the sum of its measured parts: the product at 106 GFLOP/s in 1024-row slabs of k, 8 ms packing dA, 4 ms
     * packing X and H).
     */
    private final boolean packedGradients;
    private final boolean pipelines;
    /** The fewest rows of a batch chunk: {@link #MIN_CHUNK_ROWS}, or {@link #MIN_CHUNK_ROWS_FROM_L3}. */
    private final int minChunkRows;

    /**
     * @param threads threads of the backend, >= 1
     * @param gemm    where the per-step GEMMs were asked to run
     * @param l2Bytes one core's L2 cache
     */
    FastCpuPlan(LstmSpec spec, int threads, RecurrentGemm gemm, long l2Bytes) {
        this(spec, threads, gemm, CpuVendor.vendor(), l2Bytes);
    }

    /** @param vendor the processor's vendor ({@link CpuVendor}) */
    FastCpuPlan(LstmSpec spec, int threads, RecurrentGemm gemm, String vendor, long l2Bytes) {
        this.spec = spec;
        this.threads = threads;
        this.packed = gemm == RecurrentGemm.PACKED && PackedGemm.USABLE;
        this.fusedSteps = packed && fusedWeightsFitInCache(spec, l2Bytes);
        this.loneFuses = loneRecurrenceFuses(spec, l2Bytes);
        this.chunksFuse = packed && !fusedSteps && chunksFuseFromL3(spec, vendor, l2Bytes);
        this.packedGradients = packed && 4 * spec.hiddenSize() % PackedGemm.MR == 0;
        this.pipelines = fusedSteps && pipelines(spec, threads);
        this.minChunkRows = packed && !fusedSteps && threads == 2 && chunksReadWhhFromL3(spec, vendor, l2Bytes)
                ? MIN_CHUNK_ROWS_FROM_L3 : MIN_CHUNK_ROWS;
    }

    /** Whether the per-step GEMMs of more than one row run on {@link PackedGemm} (else OpenBLAS). */
    boolean packed() {
        return packed;
    }

    /**
     * Whether the whole-sequence products with W_ih (the input projection X W_ih^T, the input gradient dA W_ih) run
     * on the packed kernel ({@link WholeSequenceProducts}) rather than OpenBLAS: wherever the per-step GEMMs do, and
     * some call may take them (not where every call fuses its steps, {@link #everyCallFuses}). On the Zen 5 VM,
     * whose environment pins OpenBLAS to its Haswell (AVX2) kernels (sgemm at 97 GFLOP/s a core of a 233 peak), the
     * projection paired against OpenBLAS's, 2 threads: ptb-medium inference 0.799 of the time, large-batch inference
     * 0.772, ptb-medium training 0.985, ptb-large inference 0.980; the input gradient at large-batch's shape 190-242
     * GFLOP/s against OpenBLAS's 95-136.
     */
    boolean sequenceProductsOnPackedKernel() {
        return packed && !everyCallFuses();
    }

    /** Whether some calls may run their layers as a pipeline ({@link #pipelined}). */
    boolean pipelines() {
        return pipelines;
    }

    /** Whether the weight gradients run on the packed kernel (see the field). */
    boolean packedGradients() {
        return packedGradients;
    }

    /** The buffers the calls need: the pipeline's, fused steps', or the whole-sequence projection's. */
    FastCpuWorkspace.Layout layout() {
        return pipelines ? FastCpuWorkspace.Layout.PIPELINED
                : fusedSteps || chunksFuse ? FastCpuWorkspace.Layout.FUSED : FastCpuWorkspace.Layout.PLAIN;
    }

    /** The most batch chunks per direction: the recurrences of different batch rows are independent. */
    int chunksPerDirection() {
        return Math.max(1, threads / spec.numDirections());
    }

    /**
     * Batch chunks per direction for a batch: at least {@value #MIN_CHUNK_ROWS} rows each, or
     * {@value #MIN_CHUNK_ROWS_FROM_L3} on weights too large to fuse whose W_hh the chunks read from L3
     * ({@link #chunksReadWhhFromL3}).
     */
    int chunks(int batch) {
        return Math.max(1, Math.min(chunksPerDirection(), batch / minChunkRows));
    }

    /** The recurrences of a layer in a call of this batch: directions times batch chunks. */
    int recurrences(int batch) {
        return spec.numDirections() * chunks(batch);
    }

    /**
     * Whether a call of this batch runs its layers as a pipeline ({@link PipelinedLayers}): one direction, one batch
     * chunk (a batch too small to split), at least 2 layers and at least as many threads, but fewer than twice as
     * many (from there the per-step split over a team, which uses every thread, is likely ahead; not measured, as
     * this VM has 2 cores), and fused steps ({@link #fusedSteps}).
     */
    boolean pipelined(int batch) {
        return pipelines && chunks(batch) == 1;
    }

    private static boolean pipelines(LstmSpec spec, int threads) {
        int layers = spec.numLayers();
        return spec.numDirections() == 1 && layers >= 2 && layers <= threads && threads < 2 * layers;
    }

    /**
     * Whether a call of this batch fuses its steps: where several recurrences (directions, batch chunks) share the
     * threads and the weights fit ({@link #fusedWeightsFitInCache}), or the batch is in chunks and their weights
     * are within {@link #chunksFuseFromL3}'s bound. A lone recurrence on several threads splits each step's W_hh GEMM
     * over a team instead; on one thread it fuses where the weights fit half of L2 ({@link #loneRecurrenceFuses})
     * and keeps the whole-sequence products otherwise.
     */
    boolean fusesSteps(int batch) {
        return fusedSteps && (recurrences(batch) > 1 || threads == 1 && loneFuses)
                || chunksFuse && chunks(batch) > 1;
    }

    /**
     * Whether every call fuses its steps, whatever its batch: the pipeline's layout (a batch too small to split runs
     * the pipeline, a larger one several chunks), or fused steps with two directions, or on one thread where a lone
     * recurrence fuses. Then an inference workspace needs only one step's gates ({@link RecurrentStep#fusedGates});
     * otherwise a lone recurrence's steps add to a whole-sequence projection of every step's.
     */
    boolean everyCallFuses() {
        return pipelines || fusedSteps && (spec.numDirections() > 1 || threads == 1 && loneFuses);
    }

    /**
     * Whether a call of this batch and length runs its per-step products on OpenBLAS's sgemv a row at a time
     * ({@link OneRowStep}) instead of the packed kernel, with the weights left as they are (nothing packed): a batch
     * of one row, on every path (W_hh alone, fused steps, the pipeline), and a call of a few rows and steps on
     * weights packed per call ({@link #readsWeightsPerRow}). A product with one row is a read of the weights, and
     * sgemv reads them faster than the packed kernel's one-row block reads its packed copy (Zen 4, one core,
     * 1280 x 650, a service's one sequence: 43 against 54.5 us with W_hh in cache, 61 against 85-89 with four such
     * matrices in turn; level at 512 x 128), with no packing before it (0.3-1.2 ms per 2600 x 650; 25-50 % of a
     * one-row call of a small two-layer LSTM). Not for frozen parameters whose weights are small enough to fuse
     * ({@link #fusedSteps}): those are packed once and kept, and there the packed one-row block was as fast or faster
     * (two layers of 128, 2 threads: sgemv took 1.10-1.15 times as long; level at two layers of 200 and one of 128).
     */
    boolean gemvSteps(int batch, int seqLength, boolean frozen) {
        return packed && (batch == 1 && !(frozen && fusedSteps) || readsWeightsPerRow(batch, seqLength, frozen));
    }

    /** Most (rows - 1) x steps of a call whose products read the weights a row at a time ({@link #gemvSteps}). */
    static final int ROW_READS = 4;

    /**
     * Whether a call of 2 to 4 rows and a few steps, (rows - 1) x steps at most {@link #ROW_READS}, on weights
     * packed per call (not frozen, too large to fuse) reads them a row at a time on sgemv instead of packing W_hh:
     * packing reads and writes W_hh once, and every step then reads the packed copy, where sgemv reads W_hh once a
     * row and step. Two layers of 650 (2 threads, paired 1-s blocks in one JVM, time with over time without, with a
     * state): B = 2, T = 1 0.606 (1.09 -> 0.65 ms), T = 2 0.593, T = 3 0.809, T = 4 0.870; B = 3, T = 1 0.595, T = 2
     * 0.799; B = 4, T = 1 0.737; one thread, B = 2, T = 2 0.732; training B = 2, T = 2 0.902 and B = 4, T = 1 0.875;
     * two layers of 256, B = 2, T = 1 0.642, T = 4 0.964, bidirectional B = 3, T = 2 0.886. Past the bound it stops
     * paying: B = 3, T = 4 0.997, B = 4, T = 2 0.993, T = 4 1.066, B = 2, T = 35 1.158.
     */
    boolean readsWeightsPerRow(int batch, int seqLength, boolean frozen) {
        return !frozen && !fusedSteps && batch <= OpenBlas.SGEMV_ROWS && (long) (batch - 1) * seqLength <= ROW_READS;
    }

    /**
     * Whether the input projection of this many rows is split by columns (gates) rather than rows. OpenBLAS packs
     * its B operand (W_ih^T) on every call, and each part of the split is a call of its own: split by rows of X,
     * every part packs all of W_ih [4H, I_l] and its own rows of X; split by columns (gates), every part packs all
     * of X's rows and its 1/parts of W_ih. The packing then totals parts * 4H * I_l + rows * I_l floats against
     * 4H * I_l + parts * rows * I_l, so the columns pay when rows < 4H. Measured on 2 threads (paired blocks in one
     * JVM, medians): one sequence of ptb-medium (35 rows against 2600) serving 7.43 -> 6.71 ms; 2 layers of
     * H = 256, T = 20, B = 4 serving 1.40 -> 1.22; one layer of H = 128, T = 10, B = 8 inference 0.335 -> 0.318;
     * ptb-medium (700 rows), its bidirectional version and ptb-large within noise (ratios 0.986-0.998);
     * large-batch's 6400 rows (4H = 2048) stay split by rows, 1.6 % faster than by columns. The input gradient
     * dA W_ih stays split by rows: by columns (where rows < I_l) it measured no different, at one sequence of
     * ptb-medium's size in training (paired ratios 0.98-1.02 over three runs).
     */
    boolean projectsByColumns(int rows) {
        return rows < 4 * spec.hiddenSize();
    }

    /**
     * Whether every layer's packed [W_ih W_hh] (the larger of its two layouts) takes at most 3/2 of a core's L2
     * cache of l2Bytes. Then a step's GEMM [x_t h_{t-1}] [W_ih W_hh]^T, which streams those weights once per step,
     * runs from L2 or close to it, and beats a whole-sequence input projection (which writes and reads back
     * [T*B, 4H] through memory) plus h W_hh^T per step. Measured at 2 threads on two VMs of this project's kind:
     * <ul>
     *   <li>Intel Xeon, 2 MiB L2 per core: seed-mnist inference (0.3 MB of weights) ~8 % faster fused; large-batch
     *   (6.3 MB) ~10 % slower; ptb-medium as a pipeline (13.5 MB per layer) 20 % slower than the per-step split,
     *   ptb-small (1.3 MB) faster;</li>
     *   <li>AMD Zen 4, 1 MiB L2 per core: ptb-small as a pipeline 3.53 against 3.87 ms (weights 1.3 times L2),
     *   ptb-medium as a pipeline 76-81 against 56 ms, large-batch fused within noise (108-113 against 111-116).</li>
     * </ul>
     * The bound of 3/2 L2 is the one that takes each of these on the faster side on both machines (3/4, the
     * earlier bound, left ptb-small on Zen 4 on the slower one). It is never below {@link #MIN_FUSED_BOUND_BYTES}.
     */
    static boolean fusedWeightsFitInCache(LstmSpec spec, long l2Bytes) {
        return fusedWeightBytes(spec) <= Math.max(l2Bytes * 3 / 2, MIN_FUSED_BOUND_BYTES);
    }

    /**
     * The least bound of {@link #fusedWeightsFitInCache}, for cores with less than 1 MiB of L2 (the bound it gives
     * Zen 4 and 5, whose L2 is 1 MiB). On a Zen 3 VM (512 KiB of L2, 2026-12-08) ptb-small's 1.3 MB a layer was
     * past 3/2 of L2, so it ran as two batch chunks of 10 rows fusing their steps from L3 ({@link #chunksFuseFromL3});
     * as the layer pipeline, paired 1-s blocks in one JVM, 2 threads, both orders: training 0.852 and 0.924 of the
     * time, inference 1.053 and 1.001.
     */
    static final long MIN_FUSED_BOUND_BYTES = 3L << 19;

    /**
     * Whether the batch chunks of a unidirectional layer fuse their steps where its packed [W_ih W_hh] is past
     * {@link #fusedWeightsFitInCache}: on AMD processors up to 8 times a core's L2. Each chunk's thread then streams
     * the weights from L3 every step, in place of a whole-sequence projection that writes [T*B, 4H] to memory and
     * reads it back (large-batch: 52 MB). Measured at large-batch (6.3 MB, 2 chunks of 32 rows, 2 threads,
     * alternating 1-s blocks in one JVM, both orders): on the Zen 5 VM inference 0.927 and 0.945 of the time,
     * training 0.958 and 1.013, since the fused step's product from zero takes 6-row blocks ({@link PackedGemm});
     * on the Zen 4 VM within noise (108-113 against 111-116 ms). On the Intel VM large-batch was 10 % slower fused,
     * so elsewhere the bound stays. Not for two directions, whose two sets of weights would share L3, nor for the
     * layer pipeline (ptb-medium as a pipeline, 13.5 MB a layer: 1.54 times as slow on the Zen 5 VM).
     */
    static boolean chunksFuseFromL3(LstmSpec spec, String vendor, long l2Bytes) {
        return chunksReadFromL3(spec, vendor, l2Bytes, fusedWeightBytes(spec));
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

    /**
     * Whether the batch chunks of a unidirectional layer on weights too large to fuse take as few as
     * {@value #MIN_CHUNK_ROWS_FROM_L3} rows: on AMD processors, where W_hh packed takes at most 8 times a core's L2
     * (ptb-medium's 6.8 MB on 1 MiB; ptb-large's 36 MB, which would come from memory, not). The bound of
     * {@link #chunksFuseFromL3}; not for two directions, whose two sets of weights would share L3 (and which take a
     * chunk per direction on 2 threads anyway), nor on other processors, where it is not measured.
     */
    static boolean chunksReadWhhFromL3(LstmSpec spec, String vendor, long l2Bytes) {
        return chunksReadFromL3(spec, vendor, l2Bytes, 4L * PackedGemm.packedSize(spec.outputSize(),
                4 * spec.hiddenSize()));
    }

    /**
     * The bound both L3 rules share: one direction, an AMD processor, and the bytes each chunk streams every step
     * within {@value #FROM_L3_L2_MULTIPLE} times a core's L2.
     */
    private static boolean chunksReadFromL3(LstmSpec spec, String vendor, long l2Bytes, long streamedBytes) {
        return spec.numDirections() == 1 && vendor.equals(CpuVendor.AMD)
                && streamedBytes <= FROM_L3_L2_MULTIPLE * l2Bytes;
    }

    /** How many times a core's L2 the weights a chunk streams from L3 each step may take (measured on AMD). */
    private static final int FROM_L3_L2_MULTIPLE = 8;

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
}
