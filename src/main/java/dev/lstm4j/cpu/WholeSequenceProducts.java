package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The products over a whole sequence with W_ih on the packed kernel ({@link PackedGemm}): the input projection
 * g = X W_ih^T ([T*B, I_l] x [I_l, 4H] per direction) and the input gradient dX = sum over directions of dA W_ih
 * ([T*B, 4H] x [4H, I_l]). Blocked for the caches as a BLAS blocks a large GEMM: W_ih packed once per call (or once
 * for frozen parameters), k cut into slabs ({@link #slabDepth}), and within a slab the rows of A taken
 * {@link #chunkRows} at a time into a heap copy that stays in L2 while every panel of the slab passes over it. Each
 * part (thread) takes its own rows, or where there are too few rows for a chunk each, its own panels. A projection
 * of no more rows than 4H on parameters that are not frozen packs W_ih a pair of panels at a time instead, each
 * pair multiplied by every row while it is in L2 ({@link #packsPanelsAsItGoes}).
 */
final class WholeSequenceProducts {
    /**
     * The fewest rows for which a call packs W_ih (parameters that are not frozen): below them OpenBLAS, which needs
     * no packed copy, multiplies. Two layers of 650 on 2 threads, the projection paired against OpenBLAS (Haswell
     * kernels, the Zen 5 VM), inference: 35 rows 1.044 of the time, 70 rows 0.979, 140 rows 0.827, 700 rows 0.799.
     */
    static final int MIN_ROWS_TO_PACK = 64;
    /**
     * The most bytes of a slab of packed W_ih (depth x n): it stays in L3 (32 MiB on the VMs here, shared by the
     * cores) while every chunk of rows passes over it. Slabs are few and deep rather than many and small: each slab
     * after the first reads and writes C again, and a row block's accumulators then start from C's rows, which a
     * large C (ptb-large's g is 16.8 MB) holds in memory, not cache.
     */
    static final long SLAB_BYTES = 20L << 20;
    /**
     * The fewest rows of a chunk the slab depth allows: each panel's trip from L3 is shared by 12 row blocks of 5.
     * Was 128 rows and 8 MB slabs. One core beside another doing the same (Zen 5 VM): ptb-medium's projection,
     * [350 x 650] x [650 x 2600] a thread, takes k whole in chunks of 96 rows, 226-246 GFLOP/s against 207-238 in
     * slabs of 325 and chunks of 200; ptb-large's, [350 x 1500] x [1500 x 6000], 2 slabs of 750 and chunks of 80,
     * 199-203 against 175-182 in 5 slabs of 300; ptb-medium's input gradient ([350 x 2600] x [2600 x 650]) level
     * in 3 slabs of 867 and in 6 of 434. Two builds in one JVM, both orders: ptb-medium inference 0.97-0.99 of the
     * time, training 0.97-1.00, ptb-medium-bidirectional inference 0.99, ptb-large inference 0.96-0.99, training
     * 0.99-1.01.
     */
    static final int MIN_CHUNK_ROWS = 64;
    /** The most rows of a chunk. */
    static final int MAX_CHUNK_ROWS = 256;

    private final LstmSpec spec;
    private final CpuThreads threadPool;
    private final FrozenPacks frozenPacks;
    private final long l2Bytes;

    WholeSequenceProducts(LstmSpec spec, CpuThreads threadPool, FrozenPacks frozenPacks, long l2Bytes) {
        this.spec = spec;
        this.threadPool = threadPool;
        this.frozenPacks = frozenPacks;
        this.l2Bytes = l2Bytes;
    }

    /**
     * The depth of each slab of k for a product with n columns: k cut evenly into slabs of at most
     * {@value #SLAB_BYTES} bytes of B and few enough floats that {@value #MIN_CHUNK_ROWS} rows of A take a quarter
     * of a core's L2.
     */
    static int slabDepth(int k, int n, long l2Bytes) {
        long byB = SLAB_BYTES / ((long) n * Float.BYTES);
        long byA = l2Bytes / 4 / ((long) MIN_CHUNK_ROWS * Float.BYTES);
        long most = Math.max(64, Math.min(byB, byA));
        long slabs = (k + most - 1) / most;
        return (int) ((k + slabs - 1) / slabs);
    }

    /**
     * Rows of A per chunk of a slab: a quarter of a core's L2 (the rest for the panels' slabs, C's rows and what else
     * runs), a multiple of 8 rows (the kernel's row block), 8 to {@value #MAX_CHUNK_ROWS}.
     */
    static int chunkRows(int k, int n, long l2Bytes) {
        long rows = l2Bytes / 4 / ((long) slabDepth(k, n, l2Bytes) * Float.BYTES);
        return (int) Math.max(8, Math.min(MAX_CHUNK_ROWS, rows / 8 * 8));
    }

    /** Floats of a part's copy of a chunk of A's rows. */
    static int bufferFloats(int k, int n, long l2Bytes) {
        return chunkRows(k, n, l2Bytes) * slabDepth(k, n, l2Bytes);
    }

    /** Whether a call of this many rows takes its products here rather than on OpenBLAS. */
    static boolean takes(LstmParams params, int rows) {
        return params.isFrozen() || rows >= MIN_ROWS_TO_PACK;
    }

    /**
     * g = X W_ih^T for every direction of layer l. x [rows, I_l] at leading dimension xStride; g [rows, 4H] per
     * direction ({@code ws.dir(l, d).g[l]}), overwritten.
     */
    void project(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment x, int xStride,
                 Set<String> ran) {
        int h4 = 4 * spec.hiddenSize();
        int in = spec.layerInputSize(l);
        int dirs = spec.numDirections();
        if (packsPanelsAsItGoes(params, rows, h4)) {
            projectPackingPanels(params, ws, l, rows, x, xStride, ran);
            return;
        }
        int covering = PackedGemm.coveringPanels(h4);
        float[][] packed = new float[dirs][];
        MemorySegment[] a = new MemorySegment[dirs];
        MemorySegment[] c = new MemorySegment[dirs];
        for (int d = 0; d < dirs; d++) {
            MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l]
            packed[d] = packed(params, ws, "projection layer " + l + " direction " + d, d,
                    PackedGemm.coveredSize(in, h4), covering, (into, p0, p1) ->
                            PackedGemm.packTransposed(wih, in, null, 0, h4, into, p0, p1), ran);
            a[d] = x;
            c[d] = ws.dir(l, d).g[l];
        }
        multiply(ws.products(), rows, in, h4, a, xStride, packed, c, false, ran);
    }

    /**
     * Whether the projection packs W_ih a few panels at a time, each into a buffer that stays in L2 while every row
     * of X passes over it, instead of packing it whole first (parameters that are not frozen; frozen ones keep their
     * shared packed copy). Then W_ih packed never goes out to L3 or memory and back, and X is copied to the heap once
     * and read from L3 once per group of panels: taken where that copy is no larger than the packed W_ih it replaces
     * (rows <= 4H). Zen 5 VM, packing and projection on 2 threads with W_ih from memory ([700 x 650] x
     * [650 x 2560]): 5.26-5.35 ms against 5.46-5.94 packed whole first.
     */
    static boolean packsPanelsAsItGoes(LstmParams params, int rows, int h4) {
        return !params.isFrozen() && rows <= h4;
    }

    /** Panels of W_ih a part packs at a time ({@link #packsPanelsAsItGoes}): a pair, as the kernel takes them. */
    static final int GROUP_PANELS = 2;

    /**
     * {@link #project} packing W_ih's panels as it goes: X [rows, I_l] copied to the heap (each part its rows), then
     * each part its share of the covering panels, {@value #GROUP_PANELS} at a time packed and multiplied by every
     * row, the partial last panel (4H mod NR columns) through the part's scratch in chunks of rows.
     */
    private void projectPackingPanels(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment x,
                                      int xStride, Set<String> ran) {
        int h4 = 4 * spec.hiddenSize();
        int in = spec.layerInputSize(l);
        int covering = PackedGemm.coveringPanels(h4);
        FastCpuWorkspace.ProductBuffers buffers = ws.products();
        float[] a = buffers.wholeA(); // [rows, I_l]
        int parts = Math.max(1, Math.min(threadPool.threads(), Math.min(buffers.rowsOfA.length, covering)));
        threadPool.parallel(parts, part -> {
            int r0 = CpuThreads.cut(rows, parts, part);
            copyRows(x, xStride, r0, CpuThreads.cut(rows, parts, part + 1) - r0, 0, in, a, r0 * in);
        }, ran);
        int scratchRows = buffers.scratchRows();
        float[][] groups = new float[parts][];
        for (int q = 0; q < parts; q++) groups[q] = buffers.panelGroup(q); // made here, not on the workers
        for (int d = 0; d < spec.numDirections(); d++) {
            MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l]
            MemorySegment c = ws.dir(l, d).g[l];                // [rows, 4H]
            threadPool.parallel(parts, part -> {
                float[] group = groups[part];
                long scratchOff = (long) part * scratchRows * PackedGemm.NR;
                int p1 = covering * (part + 1) / parts;
                for (int g0 = covering * part / parts; g0 < p1; g0 += GROUP_PANELS) {
                    int gp = Math.min(GROUP_PANELS, p1 - g0);
                    int col0 = g0 * PackedGemm.NR;
                    int n = Math.min(gp * PackedGemm.NR, h4 - col0); // the group's columns of C
                    PackedGemm.packTransposed(wih.asSlice((long) col0 * in * Float.BYTES), in, null, 0, n, group, 0,
                            gp);
                    PackedGemm.multiply(rows, n, in, a, 0, in, group, false, c, col0, h4, 0, PackedGemm.panels(n));
                    if (n % PackedGemm.NR != 0) { // the partial last panel, a scratch's rows at a time
                        for (int r = 0; r < rows; r += scratchRows) {
                            int m = Math.min(scratchRows, rows - r);
                            PackedGemm.multiplyLastPanel(m, n, in, a, r * in, in, group, c, (long) r * h4 + col0,
                                    h4, buffers.scratch, scratchOff);
                        }
                    }
                }
            }, ran);
        }
    }

    /**
     * dX = sum over directions d of dA_d W_ih(l, d): dA_d [rows, 4H] ({@code ws.dir(l, d).dA}); dX [rows, I_l],
     * overwritten.
     */
    void inputGradient(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment dX, Set<String> ran) {
        int h4 = 4 * spec.hiddenSize();
        int in = spec.layerInputSize(l);
        int dirs = spec.numDirections();
        int covering = PackedGemm.coveringPanels(in);
        float[][] packed = new float[dirs][];
        MemorySegment[] a = new MemorySegment[dirs];
        MemorySegment[] c = new MemorySegment[dirs];
        for (int d = 0; d < dirs; d++) {
            MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l] = B [k, n]
            packed[d] = packed(params, ws, "input gradient layer " + l + " direction " + d, d,
                    PackedGemm.coveredSize(h4, in), covering, (into, p0, p1) ->
                            PackedGemm.packPlain(wih, in, null, 0, h4, into, p0, p1), ran);
            a[d] = ws.dir(l, d).dA;
            c[d] = dX;
        }
        multiply(ws.products(), rows, h4, in, a, h4, packed, c, true, ran);
    }

    private interface PanelPacking {
        /** Packs panels p0..p1-1 into the array. */
        void pack(float[] into, int p0, int p1);
    }

    /**
     * The packed B of one direction: frozen parameters' kept array under the given layout name, or the workspace's
     * own, packed now; panels split over the threads.
     */
    private float[] packed(LstmParams params, FastCpuWorkspace ws, String layout, int d, int floats, int covering,
                           PanelPacking packing, Set<String> ran) {
        int parts = Math.max(1, Math.min(threadPool.threads(), covering));
        Consumer<float[]> pack = into -> threadPool.parallel(parts, k ->
                packing.pack(into, covering * k / parts, covering * (k + 1) / parts), ran);
        return frozenPacks.packed(params, layout, floats, () -> ws.products().ownPacked(d), pack);
    }

    /**
     * For each direction d in turn, C_d [rows, n] = A_d [rows, k] (leading dimension aStride) B_d, B_d packed in
     * covering panels; where {@code sumDirections}, C_d is one array and the directions after the first add to it.
     *
     * <p>Where the rows go to the parts, the parts claim chunks of rows in turn rather than take a share each: on
     * this project's VMs one vCPU often runs slower than the other, and the part that finished its share first then
     * waited for the other. Every chunk is computed the same way whichever part claims it, so the results are the
     * same bits. Zen 3 VM, 2 threads, time with over time without, lstm4j's two builds a call each in turn in one JVM
     * (medians of 80-120 pairs, both orders): large-batch inference 0.983 and 0.961 in a slow phase of the VM, 0.994
     * and 0.978 in a fast one; large-batch training 0.959.
     */
    private void multiply(FastCpuWorkspace.ProductBuffers buffers, int rows, int k, int n, MemorySegment[] a,
                          int aStride, float[][] b, MemorySegment[] c, boolean sumDirections, Set<String> ran) {
        int chunk = chunkRows(k, n, l2Bytes);
        int covering = PackedGemm.coveringPanels(n);
        int parts = Math.min(threadPool.threads(), buffers.rowsOfA.length);
        boolean byRows = rows >= parts * chunk;
        int used = byRows ? parts : Math.max(1, Math.min(parts, covering));
        int chunks = (rows + chunk - 1) / chunk;
        AtomicInteger nextChunk = new AtomicInteger(); // the next chunk of rows to claim, where byRows
        threadPool.parallel(used, part -> {
            if (byRows) {
                for (int ch = nextChunk.getAndIncrement(); ch < chunks; ch = nextChunk.getAndIncrement()) {
                    int c0 = ch * chunk;
                    rowChunk(buffers, part, chunk, c0, Math.min(chunk, rows - c0), k, n, a, aStride, b, c,
                            sumDirections, 0, covering);
                }
                return;
            }
            // its share of the covering panels over every row, the last, partial panel (n mod NR > 0) with the
            // last part
            int p0 = covering * part / used;
            int p1 = covering * (part + 1) / used;
            for (int c0 = 0; c0 < rows; c0 += chunk) {
                rowChunk(buffers, part, chunk, c0, Math.min(chunk, rows - c0), k, n, a, aStride, b, c, sumDirections,
                        p0, p1);
            }
        }, ran);
    }

    /**
     * {@link #multiply}'s rows c0..c0+m-1 (m at most chunk) over covering panels p0..p1-1 on part's buffers: every
     * direction in turn, each in slabs of k.
     */
    private void rowChunk(FastCpuWorkspace.ProductBuffers buffers, int part, int chunk, int c0, int m, int k, int n,
                          MemorySegment[] a, int aStride, float[][] b, MemorySegment[] c, boolean sumDirections,
                          int p0, int p1) {
        int depth0 = slabDepth(k, n, l2Bytes);
        int panels = PackedGemm.panels(n);
        float[] rowsOfA = buffers.rowsOfA[part];
        long scratchOff = (long) part * chunk * PackedGemm.NR;
        for (int d = 0; d < a.length; d++) {
            for (int k0 = 0; k0 < k; k0 += depth0) {
                int depth = Math.min(depth0, k - k0);
                boolean add = k0 > 0 || sumDirections && d > 0;
                copyRows(a[d], aStride, c0, m, k0, depth, rowsOfA, 0);
                PackedGemm.multiplySlab(k0, depth, m, n, k, rowsOfA, 0, depth, b[d], add, c[d], (long) c0 * n, n, p0,
                        Math.min(p1, panels));
                if (p1 > panels) {
                    PackedGemm.lastPanelSlab(k0, depth, m, n, k, rowsOfA, 0, depth, b[d], buffers.scratch,
                            scratchOff);
                    lastColumns(buffers.scratch, scratchOff, c[d], c0, m, n, add);
                }
            }
        }
    }

    /**
     * into [m, depth] from intoOff = rows c0..c0+m-1 of a (leading dimension stride), columns k0..k0+depth-1.
     */
    private static void copyRows(MemorySegment a, int stride, int c0, int m, int k0, int depth, float[] into,
                                 int intoOff) {
        for (int r = 0; r < m; r++) {
            MemorySegment.copy(a, ValueLayout.JAVA_FLOAT, ((long) (c0 + r) * stride + k0) * Float.BYTES, into,
                    intoOff + r * depth, depth);
        }
    }

    /** C's last n mod NR columns of rows c0..c0+m-1 = (or +=, when add) the first of scratch [m, NR]'s columns. */
    private static void lastColumns(MemorySegment scratch, long scratchOff, MemorySegment c, int c0, int m, int n,
                                    boolean add) {
        int col0 = PackedGemm.panels(n) * PackedGemm.NR;
        int cols = n - col0;
        for (int r = 0; r < m; r++) {
            long from = scratchOff + (long) r * PackedGemm.NR;
            long to = (long) (c0 + r) * n + col0;
            if (!add) {
                MemorySegment.copy(scratch, from * Float.BYTES, c, to * Float.BYTES, (long) cols * Float.BYTES);
                continue;
            }
            for (int col = 0; col < cols; col++) {
                float v = c.getAtIndex(ValueLayout.JAVA_FLOAT, to + col)
                        + scratch.getAtIndex(ValueLayout.JAVA_FLOAT, from + col);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, to + col, v);
            }
        }
    }
}
