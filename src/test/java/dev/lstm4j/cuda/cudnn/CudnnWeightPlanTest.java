package dev.lstm4j.cuda.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cuda.cudnn.CudnnWeightPlan.Block;
import dev.lstm4j.cuda.cudnn.CudnnWeightPlan.Location;
import dev.lstm4j.cuda.cudnn.CudnnWeightPlan.Part;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The (pseudo-layer, linear-layer id) plan against cuDNN's documented numbering: pseudo-layer l*D+d, ids 0-3 input
 * weights/biases of gates i, f, g, o, ids 4-7 the recurrent ones, id 8 the projection matrix.
 */
class CudnnWeightPlanTest {

    @Test
    void oneLayerUnidirectionalHasEightMatricesAndEightBiases() {
        LstmSpec spec = LstmSpec.builder(5, 4).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        assertEquals(16, plan.blocks().size());
        assertEquals(8, plan.linLayerCount());
        assertEquals(1, plan.pseudoLayerCount());
        // linLayerID 1 = forget gate of W: rows [H, 2H) of weight_ih_l0, [4, 5] each
        assertEquals(new Block(0, 1, Part.MATRIX, "weight_ih_l0", 4 * 5, 4, 5), plan.block(0, 1, Part.MATRIX));
        // linLayerID 6 = cell candidate g of R: rows [2H, 3H) of weight_hh_l0, [4, 4]
        assertEquals(new Block(0, 6, Part.MATRIX, "weight_hh_l0", 8 * 4, 4, 4), plan.block(0, 6, Part.MATRIX));
        assertEquals(new Block(0, 3, Part.BIAS, "bias_ih_l0", 12, 4, 1), plan.block(0, 3, Part.BIAS));
        assertEquals(new Block(0, 7, Part.BIAS, "bias_hh_l0", 12, 4, 1), plan.block(0, 7, Part.BIAS));
    }

    @Test
    void bidirectionalMultiLayerNumbersPseudoLayersForwardThenReverse() {
        LstmSpec spec = LstmSpec.builder(3, 6).numLayers(2).bidirectional(true).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        assertEquals(4, plan.pseudoLayerCount());
        assertEquals(64, plan.blocks().size());
        assertEquals(new Block(1, 0, Part.MATRIX, "weight_ih_l0_reverse", 0, 6, 3), plan.block(1, 0, Part.MATRIX));
        // layer 1 reads both directions of layer 0: 2H = 12 columns
        assertEquals(new Block(2, 2, Part.MATRIX, "weight_ih_l1", 12 * 12, 6, 12), plan.block(2, 2, Part.MATRIX));
        assertEquals(new Block(3, 6, Part.MATRIX, "weight_hh_l1_reverse", 12 * 6, 6, 6), plan.block(3, 6, Part.MATRIX));
        assertEquals(new Block(3, 5, Part.BIAS, "bias_hh_l1_reverse", 6, 6, 1), plan.block(3, 5, Part.BIAS));
    }

    @Test
    void projectionAddsLinearLayerEightAndNarrowsTheRecurrentMatrices() {
        LstmSpec spec = LstmSpec.builder(3, 6).numLayers(2).bidirectional(true).projSize(2).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        assertEquals(9, plan.linLayerCount());
        assertEquals(4 * 17, plan.blocks().size());
        assertEquals(new Block(3, 8, Part.MATRIX, "weight_hr_l1_reverse", 0, 2, 6), plan.block(3, 8, Part.MATRIX));
        assertEquals(new Block(0, 4, Part.MATRIX, "weight_hh_l0", 0, 6, 2), plan.block(0, 4, Part.MATRIX));
        // layer 1's input is D*P = 4 wide
        assertEquals(new Block(2, 3, Part.MATRIX, "weight_ih_l1", 18 * 4, 6, 4), plan.block(2, 3, Part.MATRIX));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.block(0, 8, Part.BIAS));
        assertTrue(e.getMessage().contains("(8: matrix only)"), e.getMessage());
    }

    @Test
    void everyParameterElementIsCoveredExactlyOnce() {
        for (LstmSpec spec : List.of(
                LstmSpec.builder(5, 4).build(),
                LstmSpec.builder(3, 6).numLayers(3).bidirectional(true).build(),
                LstmSpec.builder(7, 5).numLayers(2).projSize(3).build(),
                LstmSpec.builder(2, 8).numLayers(2).bidirectional(true).projSize(1).build())) {
            CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
            Map<String, int[]> hits = new HashMap<>();
            for (String name : spec.parameterNames()) {
                hits.put(name, new int[Math.toIntExact(spec.parameterShape(name).elementCount())]);
            }
            for (Block b : plan.blocks()) {
                int[] h = hits.get(b.param());
                for (long k = 0; k < b.elementCount(); k++) {
                    h[Math.toIntExact(b.firstElement() + k)]++;
                }
            }
            hits.forEach((name, h) -> {
                for (int k = 0; k < h.length; k++) {
                    assertEquals(1, h[k], spec + ": " + name + "[" + k + "] covered " + h[k] + " times");
                }
            });
        }
    }

    /** A fake weight space: blocks in reverse plan order with a 64-byte gap before each, like an opaque layout. */
    private static Map<String, Location> scatteredLayout(CudnnWeightPlan plan, DType dtype, long[] total) {
        Map<String, Location> at = new HashMap<>();
        long offset = 0;
        List<Block> reversed = new ArrayList<>(plan.blocks());
        java.util.Collections.reverse(reversed);
        for (Block b : reversed) {
            offset += 64;
            at.put(key(b.pseudoLayer(), b.linLayerId(), b.part()), new Location(offset, b.elementCount()));
            offset += b.elementCount() * dtype.byteSize();
        }
        total[0] = offset + 64;
        return at;
    }

    private static String key(int p, int l, Part part) {
        return p + "/" + l + "/" + part;
    }

    @Test
    void packAndUnpackFollowTheLocationsCudnnReports() {
        LstmSpec spec = LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).projSize(2).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        for (DType dtype : DType.values()) {
            long[] total = new long[1];
            Map<String, Location> at = scatteredLayout(plan, dtype, total);
            CudnnWeightPlan.Layout layout = plan.layout((p, l, part) -> at.get(key(p, l, part)), total[0], dtype);
            try (Arena arena = Arena.ofConfined();
                 LstmParams params = LstmParams.initialized(spec, dtype, Initializer.pytorchUniform(), 11);
                 LstmParams back = LstmParams.zeros(spec, dtype)) {
                MemorySegment image = arena.allocate(total[0]);
                layout.pack(params, image);
                // cuDNN's (pseudo-layer 3, id 6) = g rows of weight_hh_l1_reverse; element (row 1, col 1) of the block
                Location g = at.get(key(3, 6, Part.MATRIX));
                double expected = params.get("weight_hh_l1_reverse").get(2 * 4 + 1, 1);
                double packed = dtype == DType.FLOAT64
                        ? image.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, g.byteOffset() + (1 * 2 + 1) * 8L)
                        : image.get(ValueLayout.JAVA_FLOAT_UNALIGNED, g.byteOffset() + (1 * 2 + 1) * 4L);
                assertEquals(expected, packed, 0.0);
                layout.unpack(image, back);
                for (String name : spec.parameterNames()) {
                    assertEquals(java.util.Arrays.toString(params.get(name).toDoubleArray()),
                            java.util.Arrays.toString(back.get(name).toDoubleArray()), name);
                }
            }
        }
    }

    @Test
    void aBlockOfTheWrongSizeIsRefusedWithBothCounts() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> plan.layout(
                (p, l, part) -> new Location(0, part == Part.BIAS ? 4 : 15), 1 << 20, DType.FLOAT32));
        assertEquals("cuDNN weight space: block (pseudoLayer 0, linLayerID 0, matrix) <- weight_ih_l0[0..4) expected 12 "
                + "elements (4 x 3), cuDNN reports 15", e.getMessage());
    }

    @Test
    void overlappingOrOutOfRangeBlocksAreRefused() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        IllegalStateException overlap = assertThrows(IllegalStateException.class, () -> plan.layout(
                (p, l, part) -> new Location(0, part == Part.BIAS ? 4 : (l < 4 ? 12 : 16)), 1 << 20, DType.FLOAT32));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        long[] total = new long[1];
        Map<String, Location> at = scatteredLayout(plan, DType.FLOAT32, total);
        IllegalStateException range = assertThrows(IllegalStateException.class, () -> plan.layout(
                (p, l, part) -> at.get(key(p, l, part)), 100, DType.FLOAT32));
        assertTrue(range.getMessage().contains("expected inside 100 bytes"), range.getMessage());
    }

    @Test
    void packRefusesParamsOfAnotherSpecOrDtype() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        CudnnWeightPlan plan = CudnnWeightPlan.of(spec);
        long[] total = new long[1];
        Map<String, Location> at = scatteredLayout(plan, DType.FLOAT32, total);
        CudnnWeightPlan.Layout layout = plan.layout((p, l, part) -> at.get(key(p, l, part)), total[0], DType.FLOAT32);
        try (Arena arena = Arena.ofConfined(); LstmParams p64 = LstmParams.zeros(spec, DType.FLOAT64)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layout.pack(p64, arena.allocate(total[0])));
            assertEquals("params: expected dtype float32, got float64", e.getMessage());
        }
    }

    @Test
    void peepholeSpecsHaveNoPlan() {
        LstmSpec spec = LstmSpec.builder(3, 4).peepholes(true).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudnnWeightPlan.of(spec));
        assertTrue(e.getMessage().contains("no peephole weights"), e.getMessage());
    }
}
