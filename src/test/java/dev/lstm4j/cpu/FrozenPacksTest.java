package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.FrozenParamsCheck;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Frozen parameters: the fast CPU backend packs their weights once and reuses the packed arrays, on every way a step
 * runs, with the results of the same parameters unfrozen (the same kernels on the same packed values).
 */
class FrozenPacksTest {
    /**
     * Without 8-float vectors (SSE, or NEON on aarch64) the backend runs every GEMM on OpenBLAS from the weights as
     * they are, and packs nothing, frozen or not (FastCpuBackendBehaviourTest checks that choice).
     */
    private static void requirePackedKernel() {
        assumeTrue(PackedGemm.USABLE, "this machine's vectors hold " + PackedGemm.LANES
                + " floats: the backend packs no weights, so there is nothing to keep for frozen parameters");
    }

    static Stream<Arguments> paths() {
        return Stream.of(
                // 2 threads, B = 64: two batch chunks, fused steps (weights far below any L2)
                Arguments.of("fused steps, batch chunks", LstmSpec.builder(16, 32).build(), 64,
                        FastCpuWorkspace.Layout.FUSED),
                // two unidirectional layers, small batch, small weights: the layer pipeline
                Arguments.of("layer pipeline", LstmSpec.builder(16, 32).numLayers(2).peepholes(true).build(), 8,
                        FastCpuWorkspace.Layout.PIPELINED),
                // 5 MB of fused weights per layer (more than 3/2 of any L2 here): the per-step team, W_hh alone
                Arguments.of("per-step team", LstmSpec.builder(400, 400).numLayers(2).build(), 8,
                        unfusedLayout(LstmSpec.builder(400, 400).numLayers(2).build())),
                // 9.4 MB of fused weights, W_hh 1 MB: on AMD processors two chunks of 10 rows, each reading W_hh
                // from L3 (FastCpuPlan.MIN_CHUNK_ROWS_FROM_L3); elsewhere the per-step team
                Arguments.of("two chunks of 10 rows", LstmSpec.builder(2048, 256).numLayers(2).build(), 20,
                        unfusedLayout(LstmSpec.builder(2048, 256).numLayers(2).build())),
                // the same size bidirectional: both directions' packs
                Arguments.of("bidirectional, unfused", LstmSpec.builder(400, 400).bidirectional(true).build(), 8,
                        FastCpuWorkspace.Layout.PLAIN),
                // W_hr packed for the steps' projection too (StepProjection), beside the fused [W_ih W_hh]
                Arguments.of("projection, fused steps", LstmSpec.builder(16, 48).projSize(40).build(), 64,
                        FastCpuWorkspace.Layout.FUSED));
    }

    /**
     * The layout of weights past the L2 bound for fused steps: PLAIN, or FUSED where a unidirectional layer's batch
     * chunks fuse from L3 ({@link FastCpuPlan#chunksFuseFromL3}; AMD processors), though a batch of one chunk, as
     * here, runs unfused.
     */
    private static FastCpuWorkspace.Layout unfusedLayout(LstmSpec spec) {
        return FastCpuPlan.chunksFuseFromL3(spec, CpuVendor.vendor(), CacheSize.l2Bytes())
                ? FastCpuWorkspace.Layout.FUSED : FastCpuWorkspace.Layout.PLAIN;
    }

    /**
     * {@link #paths} and, with one row, frozen weights small enough to fuse: packed once and kept as with more rows,
     * where the same parameters unfrozen run on sgemv, unpacked (FastCpuPlan.gemvSteps).
     */
    static Stream<Arguments> packedPaths() {
        return Stream.concat(paths(), Stream.of(
                Arguments.of("one row, a lone recurrence", LstmSpec.builder(16, 32).build(), 1,
                        FastCpuWorkspace.Layout.FUSED),
                Arguments.of("one row, the layer pipeline", LstmSpec.builder(16, 32).numLayers(2).build(), 1,
                        FastCpuWorkspace.Layout.PIPELINED),
                Arguments.of("one row, fused steps", LstmSpec.builder(16, 32).bidirectional(true).build(), 1,
                        FastCpuWorkspace.Layout.FUSED),
                Arguments.of("one row, projection, the layer pipeline",
                        LstmSpec.builder(16, 48).projSize(40).numLayers(2).build(), 1,
                        FastCpuWorkspace.Layout.PIPELINED)));
    }

    /**
     * With a projection, frozen parameters keep W_hr packed in both layouts as well ({@link StepProjection}); and a
     * later call in the same workspace on other parameters, not frozen (one row: their steps on OpenBLAS, nothing
     * packed), reads their own W_hr, not the packed one left from the frozen call: its results are a fresh backend's.
     */
    @Test
    void keepsWhrPackedAndOtherParametersDoNotReadIt() {
        requirePackedKernel();
        LstmSpec spec = LstmSpec.builder(16, 48).projSize(40).build();
        int t = 4;
        try (Arena arena = Arena.ofConfined();
             LstmParams frozen = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5)
                     .freeze();
             LstmParams other = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 6);
             FastCpuBackend fast = new FastCpuBackend(spec, 2);
             FastCpuBackend fresh = new FastCpuBackend(spec, 2)) {
            Tensor x = random(arena, Shape.of(t, 1, spec.inputSize()), 1);
            Tensor dy = random(arena, LstmShapes.outputShape(spec, t, 1), 2);
            try (LstmOutput unused = fast.forward(frozen, LstmInput.of(x));
                 LstmOutput expected = fresh.forward(other, LstmInput.of(x));
                 LstmOutput actual = fast.forward(other, LstmInput.of(x))) {
                assertClose(expected.output().toFloatArray(), actual.output().toFloatArray(),
                        "inference on the other parameters");
            }
            FrozenParamsCheck.trainingStep(fast, frozen, x, dy);
            assertTrue(fast.frozenPackLayouts().containsAll(
                    List.of("W_hr layer 0 direction 0", "W_hr plain layer 0 direction 0")),
                    "W_hr packed forward and backward: " + fast.frozenPackLayouts());
            List<float[]> expected = FrozenParamsCheck.trainingStep(fresh, other, x, dy);
            List<float[]> actual = FrozenParamsCheck.trainingStep(fast, other, x, dy);
            for (int k = 0; k < expected.size(); k++) {
                assertClose(expected.get(k), actual.get(k), "tensor " + k + " on the other parameters");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("packedPaths")
    void packsOnceAndGivesTheSameResults(String name, LstmSpec spec, int batch, FastCpuWorkspace.Layout layout) {
        requirePackedKernel();
        int t = 4;
        try (Arena arena = Arena.ofConfined();
             LstmParams live = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5);
             LstmParams frozen = live.to(DType.FLOAT32).freeze();
             FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            assertEquals(layout, fast.plan().layout(), "the path under test");
            Tensor x = random(arena, Shape.of(t, batch, spec.inputSize()), 1);
            Tensor dy = random(arena, LstmShapes.outputShape(spec, t, batch), 2);
            List<float[]> expected = FrozenParamsCheck.trainingStep(fast, live, x, dy);
            assertEquals(0, fast.frozenPackCount(), "parameters that are not frozen are packed per call, not kept");
            List<float[]> first = FrozenParamsCheck.trainingStep(fast, frozen, x, dy);
            int packs = fast.frozenPackCount();
            assertTrue(packs >= 2 * spec.numDirections(), "forward and backward layouts of every direction: " + packs);
            for (int round = 0; round < 3; round++) {
                List<float[]> again = FrozenParamsCheck.trainingStep(fast, frozen, x, dy);
                for (int k = 0; k < expected.size(); k++) {
                    assertClose(expected.get(k), first.get(k), "tensor " + k + ", first frozen call");
                    assertClose(expected.get(k), again.get(k), "tensor " + k + ", round " + round);
                }
            }
            assertEquals(packs, fast.frozenPackCount(), "later calls reuse the packed weights");
            // inference on the same frozen parameters needs no other layout
            try (LstmOutput y = fast.forward(frozen, LstmInput.of(x))) {
                assertClose(expected.get(0), y.output().toFloatArray(), "inference output");
            }
            assertEquals(packs, fast.frozenPackCount());
        }
    }

    /**
     * Calls on frozen parameters read the shared packed array, so their workspaces make no packed array of their own
     * (each concurrent call has a workspace: at ptb-large an unused array would be 36 MB per layer and direction).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void frozenCallsMakeNoPackedArrayOfTheirOwn(String name, LstmSpec spec, int batch,
                                               FastCpuWorkspace.Layout layout) {
        requirePackedKernel();
        int t = 4;
        try (Arena arena = Arena.ofConfined();
             LstmParams live = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5);
             LstmParams frozen = live.to(DType.FLOAT32).freeze();
             FastCpuBackend onLive = new FastCpuBackend(spec, 2);
             FastCpuBackend onFrozen = new FastCpuBackend(spec, 2)) {
            Tensor x = random(arena, Shape.of(t, batch, spec.inputSize()), 1);
            Tensor dy = random(arena, LstmShapes.outputShape(spec, t, batch), 2);
            FrozenParamsCheck.trainingStep(onLive, live, x, dy);
            FrozenParamsCheck.trainingStep(onFrozen, frozen, x, dy);
            long packedWhh = 4L * spec.numDirections()
                    * PackedGemm.packedSize(spec.outputSize(), 4 * spec.hiddenSize());
            long saved = onLive.workspaceBytes() - onFrozen.workspaceBytes();
            assertTrue(saved >= packedWhh, "bytes the frozen calls' workspace does not hold: " + saved
                    + ", expected at least W_hh packed for every direction, " + packedWhh);
        }
    }

    /**
     * A batch of one row takes the weights as they are, for sgemv, where they are too large to fuse: then even frozen
     * parameters' W_hh is not packed (FastCpuPlan.gemvSteps), for a lone recurrence's team and for two directions,
     * only W_ih for the input projection and the input gradient (WholeSequenceProducts);
     * eight rows of the same layer are packed, once. (Frozen weights small enough to fuse are packed for one row too:
     * {@link #packsOnceAndGivesTheSameResults}.)
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("oneRowPaths")
    void oneRowStepsOnLargeWeightsPackNothing(String name, LstmSpec spec) {
        requirePackedKernel();
        try (Arena arena = Arena.ofConfined();
             LstmParams frozen = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5)
                     .freeze();
             FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            assertEquals(unfusedLayout(spec), fast.plan().layout(), "weights too large to fuse");
            assertFalse(fast.plan().fusesSteps(1), "one row, one chunk: unfused");
            Tensor x1 = random(arena, Shape.of(4, 1, spec.inputSize()), 1);
            FrozenParamsCheck.trainingStep(fast, frozen, x1, random(arena, LstmShapes.outputShape(spec, 4, 1), 2));
            assertTrue(fast.frozenPackLayouts().stream().allMatch(layout -> layout.startsWith("projection ")
                            || layout.startsWith("input gradient ")),
                    "one row: the steps forward and backward on the weights as they are, only W_ih packed for the"
                            + " whole-sequence products; packed: " + fast.frozenPackLayouts());
            int projections = fast.frozenPackCount();
            assertEquals(2 * spec.numDirections(), projections, "W_ih of each direction packed once a product");
            Tensor x8 = random(arena, Shape.of(4, 8, spec.inputSize()), 3);
            FrozenParamsCheck.trainingStep(fast, frozen, x8, random(arena, LstmShapes.outputShape(spec, 4, 8), 4));
            assertTrue(fast.frozenPackCount() > projections, "eight rows: packed weights");
        }
    }

    static Stream<Arguments> oneRowPaths() {
        return Stream.of(Arguments.of("a lone recurrence", LstmSpec.builder(400, 400).peepholes(true).build()),
                Arguments.of("two directions", LstmSpec.builder(400, 400).bidirectional(true).build()));
    }

    @Test
    void refusesToPackParametersThatMayChange() {
        try (LstmParams live = LstmParams.zeros(LstmSpec.builder(4, 8).build(), DType.FLOAT32)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new FrozenPacks().get(live, "any", 1, packed -> { }));
            assertTrue(e.getMessage().startsWith("params: expected frozen parameters"), e.getMessage());
        }
    }

    /**
     * |a - b| <= 1e-5 (1 + |b|). The two runs use the same packed values and kernels, yet they are not always equal
     * bit for bit: the Vector API's exp and tanh can differ in the last bit before and after C2 compiles them (the
     * README's Training section), and in one run of this test the bidirectional case differed by 1 ulp in one output
     * on its third frozen call. A few such bits, carried through 4 steps and sums of at most 800 terms, stay below
     * 1e-5; a wrong packed array (another direction's or layer's weights) gives errors of order 0.1.
     */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float tol = 1e-5f * (1 + Math.abs(expected[i]));
            if (Math.abs(expected[i] - actual[i]) > tol) {
                assertArrayEquals(expected, actual, tol, what + ", element " + i);
            }
        }
    }

    private static Tensor random(Arena arena, Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(arena, DType.FLOAT32, shape);
        for (long k = 0; k < t.elementCount(); k++) t.setFlat(k, r.nextDouble(-1, 1));
        return t;
    }
}
