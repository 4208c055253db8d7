package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;

/**
 * The input projection of a whole sequence, g = X W_ih^T ([T*B, I_l] x [I_l, 4H] per direction), on the packed
 * kernel ({@link PackedGemm}), blocked for the caches as a BLAS blocks a large GEMM: W_ih^T packed once per call
 * (or once for frozen parameters), k cut into slabs of at most {@value #MAX_SLAB}, and within a slab the rows of X
 * taken {@link #chunkRows} at a time into a heap copy that stays in L2 while every panel of W_ih^T passes over it.
 * Each part (thread) takes its own rows of X, or where there are too few rows for that, its own panels.
 */
final class PackedProjection {
    /**
     * The most bytes of a slab of W_ih^T (depth x 4H): it stays in L3 (32 MiB on the VMs here, shared by the cores)
     * while every chunk of rows passes over it.
     */
    static final long SLAB_BYTES = 8L << 20;
    /**
     * The fewest rows for which a call packs W_ih^T (parameters that are not frozen): below them OpenBLAS, which
     * needs no packed copy, projects. Two layers of 650 on 2 threads, paired against OpenBLAS (Haswell kernels, the
     * Zen 5 VM), inference: 35 rows 1.044 of the time, 70 rows 0.979, 140 rows 0.827, 700 rows 0.799.
     */
    static final int MIN_ROWS_TO_PACK = 64;
    /** The most rows of a chunk: enough to amortise a panel's trip from L3 over the row blocks. */
    static final int MAX_CHUNK_ROWS = 256;

    private final LstmSpec spec;
    private final CpuThreads threadPool;
    private final FrozenPacks frozenPacks;
    private final long l2Bytes;

    PackedProjection(LstmSpec spec, CpuThreads threadPool, FrozenPacks frozenPacks, long l2Bytes) {
        this.spec = spec;
        this.threadPool = threadPool;
        this.frozenPacks = frozenPacks;
        this.l2Bytes = l2Bytes;
    }

    /** The depth of each slab of k = in: in cut evenly into slabs of at most {@value #SLAB_BYTES} bytes of W. */
    static int slabDepth(int in, int h4) {
        long most = Math.max(64, SLAB_BYTES / ((long) h4 * Float.BYTES));
        long slabs = (in + most - 1) / most;
        return (int) ((in + slabs - 1) / slabs);
    }

    /**
     * Rows of X per chunk of a slab: a quarter of a core's L2 (the rest for the panels' slabs, C's rows and what
     * else runs), a multiple of 8 rows (the kernel's row block), 8 to {@value #MAX_CHUNK_ROWS}.
     */
    static int chunkRows(int in, int h4, long l2Bytes) {
        long rows = l2Bytes / 4 / ((long) slabDepth(in, h4) * Float.BYTES);
        return (int) Math.max(8, Math.min(MAX_CHUNK_ROWS, rows / 8 * 8));
    }

    /** Floats of a part's copy of a chunk of X's rows. */
    static int bufferFloats(int in, int h4, long l2Bytes) {
        return chunkRows(in, h4, l2Bytes) * slabDepth(in, h4);
    }

    /**
     * g = X W_ih^T for every direction of layer l. x [rows, I_l] at leading dimension xStride; g [rows, 4H] per
     * direction ({@code ws.dir(l, d).g[l]}), overwritten.
     */
    void project(LstmParams params, FastCpuWorkspace ws, int l, int rows, MemorySegment x, int xStride,
                 Set<String> ran) {
        FastCpuWorkspace.ProjectionBuffers buffers = ws.projection();
        int h4 = 4 * spec.hiddenSize();
        int in = spec.layerInputSize(l);
        int dirs = spec.numDirections();
        int covering = PackedGemm.coveringPanels(h4);
        int packParts = Math.max(1, Math.min(threadPool.threads(), covering));
        float[][] packed = new float[dirs][];
        for (int d = 0; d < dirs; d++) {
            MemorySegment wih = params.weightIh(l, d).segment(); // [4H, I_l]
            int floats = PackedGemm.coveredSize(in, h4);
            java.util.function.Consumer<float[]> pack = into -> threadPool.parallel(packParts, k ->
                    PackedGemm.packTransposed(wih, in, null, 0, h4, into, covering * k / packParts,
                            covering * (k + 1) / packParts), ran);
            if (params.isFrozen()) {
                packed[d] = frozenPacks.get(params, "projection layer " + l + " direction " + d, floats, pack);
            } else {
                packed[d] = buffers.ownPacked(d);
                pack.accept(packed[d]);
            }
        }
        int depth0 = slabDepth(in, h4);
        int chunk = chunkRows(in, h4, l2Bytes);
        int parts = Math.min(threadPool.threads(), buffers.rowsOfX.length);
        boolean byRows = rows >= parts * chunk;
        int panels = PackedGemm.panels(h4);
        int used = byRows ? parts : Math.max(1, Math.min(parts, covering));
        threadPool.parallel(used, k -> {
            int r0 = byRows ? CpuThreads.cut(rows, used, k) : 0;
            int r1 = byRows ? CpuThreads.cut(rows, used, k + 1) : rows;
            // the panels of this part: all where it has its own rows; else its share of the covering panels, the
            // last, partial one (when 4H mod NR > 0) with the last part
            int p0 = byRows ? 0 : covering * k / used;
            int p1 = byRows ? covering : covering * (k + 1) / used;
            float[] a = buffers.rowsOfX[k];
            long scratchOff = (long) k * chunk * PackedGemm.NR;
            for (int d = 0; d < dirs; d++) {
                MemorySegment g = ws.dir(l, d).g[l]; // [rows, 4H]
                for (int k0 = 0; k0 < in; k0 += depth0) {
                    int depth = Math.min(depth0, in - k0);
                    boolean add = k0 > 0;
                    for (int c0 = r0; c0 < r1; c0 += chunk) {
                        int m = Math.min(chunk, r1 - c0);
                        copyRows(x, xStride, c0, m, k0, depth, a);
                        PackedGemm.multiplySlab(k0, depth, m, h4, in, a, 0, depth, packed[d], add, g,
                                (long) c0 * h4, h4, p0, Math.min(p1, panels));
                        if (p1 > panels) {
                            PackedGemm.lastPanelSlab(k0, depth, m, h4, in, a, 0, depth, packed[d],
                                    buffers.scratch, scratchOff);
                            lastColumns(buffers.scratch, scratchOff, g, c0, m, h4, add);
                        }
                    }
                }
            }
        }, ran);
    }

    /** A [m, depth] = X's rows c0..c0+m-1, columns k0..k0+depth-1. */
    private static void copyRows(MemorySegment x, int xStride, int c0, int m, int k0, int depth, float[] a) {
        for (int r = 0; r < m; r++) {
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, ((long) (c0 + r) * xStride + k0) * Float.BYTES, a,
                    r * depth, depth);
        }
    }

    /** g's last h4 mod NR columns of rows c0..c0+m-1 = (or +=, when add) the first of scratch [m, NR]'s columns. */
    private static void lastColumns(MemorySegment scratch, long scratchOff, MemorySegment g, int c0, int m, int h4,
                                    boolean add) {
        int col0 = PackedGemm.panels(h4) * PackedGemm.NR;
        int cols = h4 - col0;
        for (int r = 0; r < m; r++) {
            long from = scratchOff + (long) r * PackedGemm.NR;
            long to = (long) (c0 + r) * h4 + col0;
            if (!add) {
                MemorySegment.copy(scratch, from * Float.BYTES, g, to * Float.BYTES, (long) cols * Float.BYTES);
                continue;
            }
            for (int c = 0; c < cols; c++) {
                float v = g.getAtIndex(ValueLayout.JAVA_FLOAT, to + c)
                        + scratch.getAtIndex(ValueLayout.JAVA_FLOAT, from + c);
                g.setAtIndex(ValueLayout.JAVA_FLOAT, to + c, v);
            }
        }
    }
}
