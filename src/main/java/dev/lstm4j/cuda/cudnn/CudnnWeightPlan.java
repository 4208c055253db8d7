package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * How our canonical parameters ({@link LstmParams}) map onto cuDNN's weight space, as blocks named by cuDNN's
 * coordinates (pseudo-layer, linear-layer id, matrix or bias). Plain Java; where each block lives in the weight space
 * is asked of cuDNN ({@code cudnnGetRNNWeightParams}) and given to {@link #layout}, never assumed.
 *
 * <p>cuDNN's numbering for an LSTM: pseudo-layer {@code l * D + d} (forward then reverse per physical layer);
 * linear-layer ids 0..3 are the input weights W and biases of gates i, f, g (cuDNN's "new memory"), o; ids 4..7 the
 * recurrent weights R and biases of the same gates; id 8 the projection matrix (no bias) when a projection is on. A
 * gate block is the contiguous row range {@code [gate*H, (gate+1)*H)} of our [4H, X] matrix or [4H] bias, the same
 * row-major layout cuDNN uses for the block (rows = gate outputs, columns = inputs).
 */
public final class CudnnWeightPlan {
    /** cuDNN's linear-layer id of the LSTM projection matrix. */
    public static final int PROJECTION_ID = 8;

    public enum Part { MATRIX, BIAS }

    /**
     * One matrix or bias of cuDNN's weight space and where it comes from in our parameters.
     *
     * @param param        canonical name, e.g. {@code weight_hh_l1_reverse}
     * @param firstElement flat element offset of the block inside that parameter
     * @param rows         rows of the block (a bias has {@code cols == 1})
     */
    public record Block(int pseudoLayer, int linLayerId, Part part, String param, long firstElement, int rows,
                        int cols) {
        public long elementCount() {
            return (long) rows * cols;
        }

        @Override
        public String toString() {
            return "(pseudoLayer " + pseudoLayer + ", linLayerID " + linLayerId + ", " + part.name().toLowerCase()
                    + ") <- " + param + "[" + (firstElement / cols) + ".." + (firstElement / cols + rows) + ")";
        }
    }

    private final LstmSpec spec;
    private final List<Block> blocks;

    private CudnnWeightPlan(LstmSpec spec, List<Block> blocks) {
        this.spec = spec;
        this.blocks = Collections.unmodifiableList(blocks);
    }

    public static CudnnWeightPlan of(LstmSpec spec) {
        if (spec.peepholes()) {
            throw new IllegalArgumentException("spec: cuDNN's weight space has no peephole weights, got " + spec);
        }
        int h = spec.hiddenSize();
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            for (int d = 0; d < spec.numDirections(); d++) {
                int pseudo = l * spec.numDirections() + d;
                int in = spec.layerInputSize(l);
                int rec = spec.outputSize();
                for (int gate = 0; gate < 4; gate++) {
                    long row = (long) gate * h;
                    blocks.add(new Block(pseudo, gate, Part.MATRIX, LstmSpec.weightIh(l, d), row * in, h, in));
                    blocks.add(new Block(pseudo, gate, Part.BIAS, LstmSpec.biasIh(l, d), row, h, 1));
                    blocks.add(new Block(pseudo, 4 + gate, Part.MATRIX, LstmSpec.weightHh(l, d), row * rec, h, rec));
                    blocks.add(new Block(pseudo, 4 + gate, Part.BIAS, LstmSpec.biasHh(l, d), row, h, 1));
                }
                if (spec.projSize() > 0) {
                    blocks.add(new Block(pseudo, PROJECTION_ID, Part.MATRIX, LstmSpec.weightHr(l, d), 0,
                            spec.projSize(), h));
                }
            }
        }
        blocks.sort(Comparator.comparingInt(Block::pseudoLayer).thenComparingInt(Block::linLayerId)
                .thenComparing(Block::part));
        return new CudnnWeightPlan(spec, blocks);
    }

    public LstmSpec spec() {
        return spec;
    }

    public List<Block> blocks() {
        return blocks;
    }

    /** Linear-layer ids per pseudo-layer: 8, or 9 with a projection. */
    public int linLayerCount() {
        return spec.projSize() > 0 ? 9 : 8;
    }

    public int pseudoLayerCount() {
        return spec.numLayers() * spec.numDirections();
    }

    /** The block at cuDNN's coordinates. */
    public Block block(int pseudoLayer, int linLayerId, Part part) {
        for (Block b : blocks) {
            if (b.pseudoLayer == pseudoLayer && b.linLayerId == linLayerId && b.part == part) {
                return b;
            }
        }
        throw new IllegalArgumentException("weight block: expected pseudoLayer 0.." + (pseudoLayerCount() - 1)
                + ", linLayerID 0.." + (linLayerCount() - 1) + (spec.projSize() > 0 ? " (8: matrix only)" : "")
                + ", got (" + pseudoLayer + ", " + linLayerId + ", " + part + ")");
    }

    /** Where cuDNN says a block lives: byte offset from the start of the weight space, and its element count. */
    public record Location(long byteOffset, long elementCount) {}

    /** Asks cuDNN (or a test) where a block lives. */
    @FunctionalInterface
    public interface Locator {
        Location locate(int pseudoLayer, int linLayerId, Part part);
    }

    /**
     * Asks {@code locator} for every block and checks the answer against the plan: the element count cuDNN reports
     * must equal ours, every block must lie inside the weight space, aligned to the element size, and no two blocks
     * may overlap. Fails with the block and both numbers otherwise.
     */
    public Layout layout(Locator locator, long weightSpaceBytes, DType dtype) {
        long[] offsets = new long[blocks.size()];
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            Location loc = locator.locate(b.pseudoLayer, b.linLayerId, b.part);
            if (loc.elementCount() != b.elementCount()) {
                throw new IllegalStateException("cuDNN weight space: block " + b + " expected " + b.elementCount()
                        + " elements (" + b.rows + " x " + b.cols + "), cuDNN reports " + loc.elementCount());
            }
            long bytes = b.elementCount() * dtype.byteSize();
            if (loc.byteOffset() < 0 || loc.byteOffset() > weightSpaceBytes - bytes
                    || loc.byteOffset() % dtype.byteSize() != 0) {
                throw new IllegalStateException("cuDNN weight space: block " + b + " expected inside " + weightSpaceBytes
                        + " bytes at a multiple of " + dtype.byteSize() + ", cuDNN places it at byte " + loc.byteOffset());
            }
            offsets[i] = loc.byteOffset();
        }
        Integer[] order = new Integer[blocks.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingLong(i -> offsets[i]));
        for (int k = 1; k < order.length; k++) {
            Block prev = blocks.get(order[k - 1]);
            long prevEnd = offsets[order[k - 1]] + prev.elementCount() * dtype.byteSize();
            if (offsets[order[k]] < prevEnd) {
                throw new IllegalStateException("cuDNN weight space: blocks " + prev + " and " + blocks.get(order[k])
                        + " overlap (" + prevEnd + " > " + offsets[order[k]] + ")");
            }
        }
        return new Layout(this, offsets, weightSpaceBytes, dtype);
    }

    /** A plan with cuDNN's answers: copies parameters into a host image of the weight space and back. */
    public static final class Layout {
        private final CudnnWeightPlan plan;
        private final long[] byteOffsets; // parallel to plan.blocks
        private final long weightSpaceBytes;
        private final DType dtype;

        private Layout(CudnnWeightPlan plan, long[] byteOffsets, long weightSpaceBytes, DType dtype) {
            this.plan = plan;
            this.byteOffsets = byteOffsets;
            this.weightSpaceBytes = weightSpaceBytes;
            this.dtype = dtype;
        }

        public long weightSpaceBytes() {
            return weightSpaceBytes;
        }

        public long byteOffset(Block block) {
            return byteOffsets[plan.blocks.indexOf(block)];
        }

        /** Writes every block of {@code params} into {@code weightSpace} (a host image, weightSpaceBytes long). */
        public void pack(LstmParams params, MemorySegment weightSpace) {
            check(params, weightSpace);
            for (int i = 0; i < byteOffsets.length; i++) {
                Block b = plan.blocks.get(i);
                Tensor t = params.get(b.param);
                long size = dtype.byteSize();
                MemorySegment.copy(t.segment(), b.firstElement * size, weightSpace, byteOffsets[i], b.elementCount() * size);
            }
        }

        /** Reads every block of {@code weightSpace} into {@code params} (gradients come back this way). */
        public void unpack(MemorySegment weightSpace, LstmParams params) {
            check(params, weightSpace);
            for (int i = 0; i < byteOffsets.length; i++) {
                Block b = plan.blocks.get(i);
                Tensor t = params.get(b.param);
                long size = dtype.byteSize();
                MemorySegment.copy(weightSpace, byteOffsets[i], t.segment(), b.firstElement * size, b.elementCount() * size);
            }
        }

        private void check(LstmParams params, MemorySegment weightSpace) {
            if (!params.spec().equals(plan.spec)) {
                throw new IllegalArgumentException("params: expected spec " + plan.spec + ", got " + params.spec());
            }
            if (params.dtype() != dtype) {
                throw new IllegalArgumentException("params: expected dtype " + dtype + ", got " + params.dtype());
            }
            if (weightSpace.byteSize() != weightSpaceBytes) {
                throw new IllegalArgumentException("weight space image: expected " + weightSpaceBytes + " bytes, got "
                        + weightSpace.byteSize());
            }
        }
    }
}
