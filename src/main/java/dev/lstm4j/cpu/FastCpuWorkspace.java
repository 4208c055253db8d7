package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Every buffer one call of {@link FastCpuBackend} needs, allocated once for a capacity (at most {@code batchCap} batch
 * rows and {@code rowsCap} = T * B sequence rows) and reused by every call that fits. "rows" below means T * B,
 * time-major (row t * B + b). A training workspace also keeps, per layer and direction, what backward reads.
 */
final class FastCpuWorkspace implements AutoCloseable {
    private static final long ALIGN = 64;

    final int batchCap;
    final int rowsCap;
    final boolean training;
    /** Native buffers and the heap arrays made with the workspace; {@link #bytes()} adds the packed weights. */
    private final long fixedBytes;
    private final Arena arena;

    final MemorySegment x0;          // [rows, I] time-major copy of the input (where it is copied: stepInput)
    final MemorySegment[] layerOut;  // [rows, D*P] per layer (training, PIPELINED) or two ping-pong buffers
    final MemorySegment[] dropMask;  // [rows, D*P] per layer >= 1, training with dropout; else null entries
    final MemorySegment[] dropIn;    // [rows, D*P] the masked input of layer l >= 1
    final MemorySegment dGradA;      // [rows, max(I, D*P)] backward: gradient of a layer's output / input
    final MemorySegment dGradB;      // [rows, max(I, D*P)]
    /** [rows, max(I, D*P)] training, FUSED, two directions: the reverse direction's dX from its fused steps. */
    final MemorySegment dXReverse;
    final MemorySegment ones;        // [rows] all 1: bias gradients as one GEMV
    /** [layers][directions]: one Dir per direction shared by every layer, or one per layer when PIPELINED. */
    private final Dir[][] dirOf;
    /** Each Dir of {@link #dirOf} once (one per direction, or one per layer when PIPELINED). */
    private final List<Dir> dirs = new ArrayList<>();
    /**
     * Training with the weight gradients dA^T [X H_prev] on {@link PackedGemm} (else null): one set of buffers,
     * shared by the layers and directions, which take their weight gradients one at a time; or when PIPELINED, a set
     * per layer, as each stage takes its own layer's when its backward ends. Set 0 has a chunk buffer per part, the
     * others one.
     */
    private final GradientBuffers[] gradients;
    /** The whole-sequence products' on the packed kernel, or null where they run on OpenBLAS or never run. */
    private final ProductBuffers products;

    /** The widest input of any layer, I_l: the first layer's I or a later one's D * P. */
    private static int widestLayerInput(LstmSpec spec) {
        int widest = 0;
        for (int l = 0; l < spec.numLayers(); l++) widest = Math.max(widest, spec.layerInputSize(l));
        return widest;
    }

    /**
     * What the packed weight gradients of one layer and direction need: X [rows, I_l] and H_prev [rows, P] packed
     * as B (covering panels), a buffer per part for the chunks of dA^T ({@link PackedGemm#transposedBufferSize}, at
     * most 512 KiB each), and the last panels' scratch [2][4H, NR] (X's, H's).
     */
    static final class GradientBuffers {
        final float[][] chunks;
        final float[] packedX;
        final float[] packedH;
        final float[] packedTails;   // [rows, NR]: the last columns of X and of H_prev side by side, one panel
        final MemorySegment scratch;
        final MemorySegment tails;   // [4H, NR]: that panel's product, split into dW_ih and dW_hh after

        private GradientBuffers(Allocator a, LstmSpec spec, int rowsCap, int parts) {
            int maxIn = widestLayerInput(spec);
            chunks = new float[parts][PackedGemm.transposedBufferSize(rowsCap)];
            packedX = new float[PackedGemm.coveredSize(rowsCap, maxIn)];
            packedH = new float[PackedGemm.coveredSize(rowsCap, spec.outputSize())];
            packedTails = new float[PackedGemm.coveredSize(rowsCap, PackedGemm.NR)];
            scratch = a.floats(2L * 4 * spec.hiddenSize() * PackedGemm.NR);
            tails = a.floats(4L * spec.hiddenSize() * PackedGemm.NR);
        }

        long heapBytes() {
            return 4L * ((long) chunks.length * chunks[0].length + packedX.length + packedH.length
                    + packedTails.length);
        }
    }

    /**
     * What the whole-sequence products on the packed kernel ({@link WholeSequenceProducts}: the input projection, and
     * in training the input gradient) need: per part, a heap copy of the rows of A it multiplies at a time
     * ({@link WholeSequenceProducts#bufferFloats}) and a scratch [chunk rows, NR] for a partial last panel; per
     * direction, the packed W_ih of parameters that are not frozen (either product's layout, one at a time), made on
     * first use; and for a projection that packs W_ih's panels as it goes
     * ({@link WholeSequenceProducts#packsPanelsAsItGoes}), a heap copy of X [min(rows cap, 4H), max I_l] and per part
     * a buffer of {@link WholeSequenceProducts#GROUP_PANELS} packed panels, made on first use.
     */
    static final class ProductBuffers {
        final float[][] rowsOfA;
        final MemorySegment scratch;    // [parts * chunk rows, NR]
        private final int scratchRows;
        private final LazyFloats[] ownPacked;   // per direction
        private final LazyFloats wholeA;        // [rows, I_l]: a projection that packs W_ih's panels as it goes
        private final LazyFloats[] panelGroups; // per part

        private ProductBuffers(Allocator a, LstmSpec spec, boolean training, int parts, int rowsCap, long l2Bytes) {
            int bufferFloats = 0;
            int chunkRows = 0;
            int packed = 0;
            int h4 = 4 * spec.hiddenSize();
            for (int l = 0; l < spec.numLayers(); l++) {
                int in = spec.layerInputSize(l);
                for (int[] kn : training ? new int[][] {{in, h4}, {h4, in}} : new int[][] {{in, h4}}) {
                    bufferFloats = Math.max(bufferFloats, WholeSequenceProducts.bufferFloats(kn[0], kn[1], l2Bytes));
                    chunkRows = Math.max(chunkRows, WholeSequenceProducts.chunkRows(kn[0], kn[1], l2Bytes));
                    packed = Math.max(packed, PackedGemm.coveredSize(kn[0], kn[1]));
                }
            }
            rowsOfA = new float[parts][bufferFloats];
            scratch = a.floats((long) parts * chunkRows * PackedGemm.NR);
            scratchRows = chunkRows;
            ownPacked = LazyFloats.each(spec.numDirections(), packed);
            int maxIn = widestLayerInput(spec);
            wholeA = new LazyFloats(Math.min(rowsCap, h4) * maxIn);
            panelGroups = LazyFloats.each(parts, WholeSequenceProducts.GROUP_PANELS * PackedGemm.NR * maxIn);
        }

        /** Rows of each part's share of {@link #scratch}. */
        int scratchRows() {
            return scratchRows;
        }

        /** The heap copy of a projection's X (at most 4H rows of the widest layer input), made on first use. */
        float[] wholeA() {
            return wholeA.get();
        }

        /** Part q's buffer for {@link WholeSequenceProducts#GROUP_PANELS} packed panels of W_ih, made on first use. */
        float[] panelGroup(int q) {
            return panelGroups[q].get();
        }

        /** This workspace's packed W_ih of direction d, made on first use; one call at a time uses a workspace. */
        float[] ownPacked(int d) {
            return ownPacked[d].get();
        }

        long heapBytes() {
            long total = 4L * rowsOfA.length * rowsOfA[0].length;
            for (LazyFloats p : ownPacked) total += p.bytes();
            for (LazyFloats p : panelGroups) total += p.bytes();
            return total + wholeA.bytes();
        }
    }

    /**
     * The buffers of one direction of the layers from..to-1 (per-layer arrays are indexed by the absolute layer;
     * entries of other layers are null). The two directions of a layer run concurrently, each on its own Dir; the
     * layers of a pipelined workspace run concurrently too, each on its own.
     */
    static final class Dir {
        final MemorySegment bias;     // [4H] b_ih + b_hh of the current layer
        final MemorySegment hState;   // [B, P]
        final MemorySegment cState;   // [B, H]
        final MemorySegment tmpP;     // [B, P]
        final MemorySegment mStep;    // [B, H] m of one step before the projection (inference with projection)
        final boolean[] active;       // [B]
        final MemorySegment[] g;      // [rows, 4H] per layer; inference: one for all layers, [B, 4H] if all fuse
        // [B, 4H] one step's gates (RecurrentStep#fusedGates, StepGemms#recurrentOnProjection)
        final MemorySegment gStep;
        final MemorySegment[] cPrev;  // [rows, H] per layer, training
        final MemorySegment[] c;      // [rows, H] per layer, training
        final MemorySegment[] cRaw;   // [rows, H] per layer, training with a cell clip
        final MemorySegment[] hPrev;  // [rows, P] per layer, training: the h each step read
        final MemorySegment[] m;      // [rows, H] per layer, training with projection
        final MemorySegment dA;       // [rows, 4H] backward: pre-activation gradients of one layer
        final MemorySegment dhState;  // [B, P]
        final MemorySegment dcState;  // [B, H]
        final MemorySegment dhStep;   // [B, P]
        final MemorySegment dh;       // [rows, P] backward with projection: dL/dh of every step
        final MemorySegment dmStep;   // [B, H] backward with projection
        final MemorySegment dPeep;    // [chunks, 3H]: one peephole-gradient accumulator per batch chunk
        /**
         * W_hh of the current layer packed for PackedGemm (forward or backward layout); with fused steps,
         * [W_ih W_hh] (the fused step's B, with its partial last panel): {@link #ownPacked()}, or for frozen parameters
         * their shared packed array ({@link FrozenPacks}). Set by whoever packs the layer, before its steps run.
         */
        float[] whhPacked;
        /**
         * This workspace's own arrays for the packed weights of parameters that are not frozen, made on the first
         * call that packs such parameters: calls on frozen parameters read shared arrays instead, and their
         * workspaces (one per concurrent call) would hold these unused (36 MB per direction at ptb-large).
         */
        private final LazyFloats ownPacked;
        /** A training forward's second packed array: the backward layout ({@link StepGemms#packFusedForward}). */
        private final LazyFloats ownBackwardPacked;
        /** The backward layout that this Dir's last training forward packed, or null: the backward then packs it. */
        float[] backwardPacked;
        final float[] stepRows;       // [B, max(P, 4H)] heap copy of the step's A rows; fused [B, max(I+P, 4H)]
        /**
         * W_hr of the current layer packed for the steps' projection ({@link StepProjection}: forward B = W_hr^T,
         * backward B = W_hr), this Dir's own array or frozen parameters' shared one; null where the projection runs
         * on OpenBLAS. Set by {@link StepProjection#prepare} before the layer's steps.
         */
        float[] whrPacked;
        private final LazyFloats ownProjectionPacked;
        final float[] projectionRows; // [B, H] with a projection: heap copy of a step's m rows, or backward's dL/dh
        final MemorySegment stepOut;  // fused: [B, NR * covering panels of max(4H, I+P)] a fused step's product

        /**
         * @param gateRows     rows of g: every sequence row, or the batch's where every step reuses them
         * @param ownStepGates whether gStep is needed: in training, and in inference where some call adds its steps
         *                     to a whole-sequence projection (not every call fuses its steps)
         */
        private Dir(Allocator a, LstmSpec s, int batch, int rows, int gateRows, boolean ownStepGates, boolean training,
                    int chunks, int from, int to, boolean fused) {
            int h = s.hiddenSize();
            int p = s.outputSize();
            int layers = s.numLayers();
            boolean proj = s.projSize() > 0;
            bias = a.floats(4L * h);
            hState = a.floats((long) batch * p);
            cState = a.floats((long) batch * h);
            tmpP = a.floats((long) batch * p);
            mStep = proj ? a.floats((long) batch * h) : null;
            active = new boolean[batch];
            int packed = PackedGemm.packedSize(p, 4 * h);
            if (training) packed = Math.max(packed, PackedGemm.packedSize(4 * h, p));
            int rowWidth = training ? Math.max(p, 4 * h) : p;
            if (fused) {
                int k = 0;
                for (int l = from; l < to; l++) k = Math.max(k, s.layerInputSize(l) + p);
                packed = Math.max(packed, PackedGemm.coveredSize(k, 4 * h));
                if (training) packed = Math.max(packed, PackedGemm.coveredSize(4 * h, k));
                rowWidth = Math.max(rowWidth, k);
                int outWidth = PackedGemm.coveringPanels(Math.max(4 * h, training ? k : 0)) * PackedGemm.NR;
                stepOut = a.floats((long) batch * outWidth);
            } else {
                stepOut = null;
            }
            ownPacked = new LazyFloats(packed);
            ownBackwardPacked = new LazyFloats(packed);
            stepRows = new float[Math.multiplyExact(batch, rowWidth)];
            ownProjectionPacked = new LazyFloats(!proj ? 0
                    : Math.max(PackedGemm.packedSize(h, p), training ? PackedGemm.packedSize(p, h) : 0));
            projectionRows = proj ? new float[Math.multiplyExact(batch, h)] : null;
            g = new MemorySegment[layers];
            MemorySegment shared = training ? null : a.floats((long) gateRows * 4 * h);
            for (int l = from; l < to; l++) g[l] = training ? a.floats((long) rows * 4 * h) : shared;
            gStep = ownStepGates ? a.floats((long) batch * 4 * h) : null;
            cPrev = new MemorySegment[layers];
            c = new MemorySegment[layers];
            cRaw = new MemorySegment[layers];
            hPrev = new MemorySegment[layers];
            m = new MemorySegment[layers];
            if (training) {
                for (int l = from; l < to; l++) {
                    cPrev[l] = a.floats((long) rows * h);
                    c[l] = a.floats((long) rows * h);
                    cRaw[l] = s.hasCellClip() ? a.floats((long) rows * h) : null;
                    hPrev[l] = a.floats((long) rows * p);
                    m[l] = proj ? a.floats((long) rows * h) : null;
                }
                dA = a.floats((long) rows * 4 * h);
                dhState = a.floats((long) batch * p);
                dcState = a.floats((long) batch * h);
                dhStep = a.floats((long) batch * p);
                dh = proj ? a.floats((long) rows * p) : null;
                dmStep = proj ? a.floats((long) batch * h) : null;
                dPeep = a.floats(3L * h * chunks);
            } else {
                dA = dhState = dcState = dhStep = dh = dmStep = dPeep = null;
            }
        }

        /**
         * A training forward's second packed array: the backward layout, packed with the forward one while the
         * weights are in cache ({@link StepGemms#packFusedForward}).
         */
        float[] ownBackwardPacked() {
            return ownBackwardPacked.get();
        }

        /** This workspace's own array for packed weights, made on first use; one call at a time uses a Dir. */
        float[] ownPacked() {
            return ownPacked.get();
        }

        /** This workspace's own array for W_hr packed ({@link StepProjection}), made on first use. */
        float[] ownProjectionPacked() {
            return ownProjectionPacked.get();
        }

        /** Bytes of the packed-weight arrays this Dir has made (0 before the first call that needed one). */
        long ownPackedBytes() {
            return ownPacked.bytes() + ownBackwardPacked.bytes() + ownProjectionPacked.bytes();
        }
    }

    /** A float array of a fixed size, made on first use. */
    private static final class LazyFloats {
        private final int floats;
        private volatile float[] array;

        LazyFloats(int floats) {
            this.floats = floats;
        }

        /** count of them, each of the same size. */
        static LazyFloats[] each(int count, int floats) {
            LazyFloats[] all = new LazyFloats[count];
            for (int i = 0; i < count; i++) all[i] = new LazyFloats(floats);
            return all;
        }

        float[] get() {
            float[] a = array;
            if (a == null) {
                a = new float[floats];
                array = a;
            }
            return a;
        }

        /** Bytes made so far: 0 before the first {@link #get}. */
        long bytes() {
            float[] a = array;
            return a == null ? 0 : 4L * a.length;
        }
    }

    /** How the steps of a call may run, which decides the buffers. */
    enum Layout {
        /** Each step's GEMM is h W_hh^T, after a whole-sequence input projection. */
        PLAIN,
        /** A step's GEMM may be the fused [x h] [W_ih W_hh]^T: room for the fused weights and rows. */
        FUSED,
        /** FUSED, and the layers run concurrently (one unidirectional recurrence per layer): a Dir and an output
         * buffer per layer. */
        PIPELINED
    }

    /**
     * @param gradientParts  the parts of the packed weight gradients whose buffers a training workspace holds; 0
     *                       where they run on OpenBLAS
     * @param oneStepOfGates whether every call fuses its steps ({@link FastCpuPlan#everyCallFuses}), so that in
     *                       inference the gates of one step [B, 4H] suffice
     * @param productParts   the parts of the whole-sequence products on the packed kernel whose buffers this
     *                       workspace holds; 0 where they run on OpenBLAS or never run
     */
    FastCpuWorkspace(LstmSpec spec, int batchCap, int rowsCap, boolean training, int chunks, Layout layout,
                     int gradientParts, boolean oneStepOfGates, int productParts) {
        this.batchCap = batchCap;
        this.rowsCap = rowsCap;
        this.training = training;
        this.arena = Arena.ofShared();
        Allocator a = new Allocator(arena);
        int layers = spec.numLayers();
        int directions = spec.numDirections();
        boolean pipelined = layout == Layout.PIPELINED;
        if (pipelined && directions != 1) {
            throw new IllegalArgumentException("pipelined workspace: expected 1 direction, got " + directions);
        }
        long width = (long) directions * spec.outputSize();
        x0 = a.floats((long) rowsCap * spec.inputSize());
        layerOut = new MemorySegment[training || pipelined ? layers : 2];
        for (int l = 0; l < layerOut.length; l++) layerOut[l] = a.floats(rowsCap * width);
        dropMask = new MemorySegment[layers];
        dropIn = new MemorySegment[layers];
        if (training && spec.dropout() > 0) {
            for (int l = 1; l < layers; l++) {
                dropMask[l] = a.floats(rowsCap * width);
                dropIn[l] = a.floats(rowsCap * width);
            }
        }
        long gradWidth = Math.max(spec.inputSize(), width);
        dGradA = training ? a.floats(rowsCap * gradWidth) : null;
        dGradB = training ? a.floats(rowsCap * gradWidth) : null;
        dXReverse = training && directions == 2 && layout == Layout.FUSED ? a.floats(rowsCap * gradWidth) : null;
        ones = training ? a.floats(rowsCap) : null;
        if (ones != null) {
            ones.fill((byte) 0);
            for (long r = 0; r < rowsCap; r++) ones.setAtIndex(ValueLayout.JAVA_FLOAT, r, 1f);
        }
        dirOf = new Dir[layers][directions];
        int gateRows = oneStepOfGates && !training ? batchCap : rowsCap;
        boolean ownStepGates = training || !oneStepOfGates;
        long heap = 0;
        if (pipelined) {
            for (int l = 0; l < layers; l++) {
                Dir d = new Dir(a, spec, batchCap, rowsCap, gateRows, ownStepGates, training, chunks, l, l + 1, true);
                dirOf[l][0] = d;
                dirs.add(d);
                heap += 4L * d.stepRows.length;
            }
        } else {
            for (int k = 0; k < directions; k++) {
                Dir d = new Dir(a, spec, batchCap, rowsCap, gateRows, ownStepGates, training, chunks, 0, layers,
                        layout == Layout.FUSED);
                for (int l = 0; l < layers; l++) dirOf[l][k] = d;
                dirs.add(d);
                heap += 4L * d.stepRows.length;
            }
        }
        if (training && gradientParts > 0) {
            gradients = new GradientBuffers[pipelined ? layers : 1];
            for (int i = 0; i < gradients.length; i++) {
                gradients[i] = new GradientBuffers(a, spec, rowsCap, i == 0 ? gradientParts : 1);
                heap += gradients[i].heapBytes();
            }
        } else {
            gradients = null;
        }
        products = productParts > 0
                ? new ProductBuffers(a, spec, training, productParts, rowsCap, CacheSize.l2Bytes()) : null;
        this.fixedBytes = a.total + heap;
    }

    /** Bytes this workspace holds: its native buffers and heap arrays, with the packed weights made so far. */
    long bytes() {
        long total = fixedBytes;
        for (Dir d : dirs) total += d.ownPackedBytes();
        if (products != null) total += products.heapBytes();
        return total;
    }

    /** The whole-sequence products' buffers ({@link WholeSequenceProducts}); null where they run on OpenBLAS. */
    ProductBuffers products() {
        return products;
    }

    /**
     * The buffers for the packed weight gradients: set 0 (a chunk buffer per part) for whole-sequence GEMMs split
     * across the threads, or when PIPELINED, set l for the stage of layer l.
     */
    GradientBuffers gradients(int set) {
        return gradients[set];
    }

    /** The buffers of layer l, direction d. */
    Dir dir(int l, int d) {
        return dirOf[l][d];
    }

    boolean fits(int batch, int rows, boolean needTraining) {
        return batch <= batchCap && rows <= rowsCap && (training || !needTraining);
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    private static final class Allocator {
        private final Arena arena;
        private long total;

        Allocator(Arena arena) {
            this.arena = arena;
        }

        MemorySegment floats(long count) {
            long size = Math.multiplyExact(Math.max(1, count), (long) Float.BYTES);
            total += size;
            return arena.allocate(size, ALIGN);
        }
    }
}
