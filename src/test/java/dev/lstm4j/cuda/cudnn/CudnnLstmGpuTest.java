package dev.lstm4j.cuda.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cpu.ReferenceBackend;
import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.DeviceAllocator;
import dev.lstm4j.cuda.GpuAssumptions;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.FrozenParamsCheck;
import dev.lstm4j.testing.ResultArenaCheck;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuDNN backend against the float64 reference: forward (output, h_n, c_n) and every gradient (input, h0, c0,
 * each parameter) for a matrix of specs. Skipped, with the detection reason, where there is no GPU.
 *
 * <p>Tolerances, |cudnn - reference| <= tol * (1 + |reference|): float64 1e-9 (cuDNN sums in another order; the
 * rounding differences of these small problems stay near 1e-14); float32 2e-4 (unit roundoff 6e-8 grown over at most a
 * few hundred dependent operations across six steps and two layers, with margin). A wrong gate, mask or state
 * index gives errors of order 0.1.
 */
@Tag("gpu")
class CudnnLstmGpuTest {

    @BeforeEach
    void gpu() {
        GpuAssumptions.assumeGpuWithLibraries();
    }

    /** A case: spec, T, B, lengths (null: full), whether h0/c0 are given. */
    record Case(String name, LstmSpec spec, int seqLength, int batch, int[] lengths, boolean initialState) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("one layer", LstmSpec.builder(5, 4).build(), 6, 3, null, false),
                new Case("two layers bidirectional, variable lengths, h0",
                        LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).build(), 6, 3, new int[] {6, 3, 1}, true),
                new Case("projection, bidirectional, lengths",
                        LstmSpec.builder(4, 6).numLayers(2).bidirectional(true).projSize(3).build(), 6, 3,
                        new int[] {5, 6, 2}, false),
                new Case("cell clip with a large c0", LstmSpec.builder(3, 4).cellClip(0.3).build(), 5, 2, null, true),
                new Case("batch-first, two layers, lengths", LstmSpec.builder(3, 5).numLayers(2).batchFirst(true).build(),
                        6, 3, new int[] {4, 6, 1}, false),
                new Case("batch 1, length 1", LstmSpec.builder(2, 3).build(), 1, 1, null, false),
                new Case("odd batch 5, long-ish T=40", LstmSpec.builder(3, 4).build(), 40, 5, new int[] {40, 1, 17, 39, 2},
                        false),
                new Case("everything: bi, 2 layers, proj, cell clip, batch-first, lengths, h0",
                        LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).projSize(2).cellClip(0.5)
                                .batchFirst(true).build(), 6, 3, new int[] {6, 2, 5}, true));
    }

    static Stream<Arguments> casesAndDtypes() {
        return cases().flatMap(c -> Stream.of(Arguments.of(c, DType.FLOAT64), Arguments.of(c, DType.FLOAT32)));
    }

    private static double tolerance(DType dtype) {
        return dtype == DType.FLOAT64 ? 1e-9 : 2e-4;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("casesAndDtypes")
    void forwardAndEveryGradientMatchTheFloat64Reference(Case c, DType dtype) {
        LstmSpec spec = c.spec;
        try (Arena arena = Arena.ofConfined();
             LstmParams params64 = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 3);
             Lstm gpu = Lstm.builder(spec).backend("cudnn").params(params64.to(dtype)).build()) {
            assertEquals(BackendKind.CUDNN, gpu.backendChoice().kind());
            SplittableRandom r = new SplittableRandom(17);
            Shape xShape = spec.batchFirst() ? Shape.of(c.batch, c.seqLength, spec.inputSize())
                    : Shape.of(c.seqLength, c.batch, spec.inputSize());
            Tensor x64 = random(arena, xShape, r, 1.0);
            Tensor h064 = c.initialState ? random(arena, LstmShapes.hiddenStateShape(spec, c.batch), r, 0.8) : null;
            Tensor c064 = c.initialState ? random(arena, LstmShapes.cellStateShape(spec, c.batch), r, 1.0) : null;
            Tensor dy64 = random(arena, LstmShapes.outputShape(spec, c.seqLength, c.batch), r, 1.0);
            Tensor dhn64 = random(arena, LstmShapes.hiddenStateShape(spec, c.batch), r, 1.0);
            Tensor dcn64 = random(arena, LstmShapes.cellStateShape(spec, c.batch), r, 1.0);

            LstmInput in64 = input(x64, h064, c064, c.lengths);
            LstmInput in = input(x64.to(dtype, arena), h064 == null ? null : h064.to(dtype, arena),
                    c064 == null ? null : c064.to(dtype, arena), c.lengths);
            ReferenceBackend ref = new ReferenceBackend(spec, DType.FLOAT64);
            try (LstmOutput want = ref.forward(params64, in64);
                 LstmOutput got = gpu.forward(in);
                 LstmGradients gWant = ref.backward(params64, want, dy64, dhn64, dcn64);
                 LstmGradients gGot = gpu.backward(got, dy64.to(dtype, arena), dhn64.to(dtype, arena),
                         dcn64.to(dtype, arena))) {
                double tol = tolerance(dtype);
                assertClose("output", want.output(), got.output(), tol);
                assertClose("h_n", want.hN(), got.hN(), tol);
                assertClose("c_n", want.cN(), got.cN(), tol);
                assertClose("d input", gWant.input(), gGot.input(), tol);
                assertClose("d h0", gWant.h0(), gGot.h0(), tol);
                assertClose("d c0", gWant.c0(), gGot.c0(), tol);
                for (String name : spec.parameterNames()) {
                    assertClose("d " + name, gWant.params().get(name), gGot.params().get(name), tol);
                }
            }
        }
    }

    @Test
    void outputsPastALengthAreExactlyZero() {
        LstmSpec spec = LstmSpec.builder(3, 4).bidirectional(true).build();
        try (Arena arena = Arena.ofConfined(); Lstm gpu = Lstm.builder(spec).backend("cudnn").seed(1).build();
             LstmOutput y = gpu.forward(LstmInput.of(random32(arena, Shape.of(5, 2, 3))).withLengths(2, 5))) {
            for (int t = 2; t < 5; t++) {
                for (int k = 0; k < 8; k++) {
                    assertEquals(0.0, y.output().get(t, 0, k), "t=" + t + " k=" + k);
                }
            }
        }
    }

    @Test
    void dropoutIsOffInInferenceAndRepeatableForASeedInTraining() {
        LstmSpec spec = LstmSpec.builder(3, 8).numLayers(2).dropout(0.5).build();
        try (Arena arena = Arena.ofConfined();
             LstmParams p64 = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 5);
             Lstm gpu = Lstm.builder(spec).backend("cudnn").params(p64.to(DType.FLOAT64)).build()) {
            Tensor x = random(arena, Shape.of(4, 3, 3), new SplittableRandom(2), 1.0);
            ReferenceBackend ref = new ReferenceBackend(spec, DType.FLOAT64);
            try (LstmOutput want = ref.forward(p64, LstmInput.of(x)); LstmOutput got = gpu.forward(LstmInput.of(x))) {
                assertClose("inference output (no dropout)", want.output(), got.output(), 1e-9);
            }
            try (LstmOutput a = gpu.forward(LstmInput.of(x).training(true).withDropoutSeed(42));
                 LstmOutput b = gpu.forward(LstmInput.of(x).training(true).withDropoutSeed(43));
                 LstmOutput a2 = gpu.forward(LstmInput.of(x).training(true).withDropoutSeed(42));
                 LstmOutput inf = gpu.forward(LstmInput.of(x))) {
                assertTrue(maxDiff(a.output(), inf.output()) > 1e-3, "training with p=0.5 must drop something");
                assertTrue(maxDiff(a.output(), b.output()) > 1e-3, "another seed, other masks");
                assertEquals(0.0, maxDiff(a.output(), a2.output()), "the same seed again gives the same masks");
            }
        }
    }

    @Test
    void manyCallsAndShapeChangesLeakNoDeviceMemory() {
        LstmSpec spec = LstmSpec.builder(8, 16).numLayers(2).bidirectional(true).build();
        try (Arena arena = Arena.ofConfined(); Lstm gpu = Lstm.builder(spec).backend("cudnn").seed(2).build()) {
            DeviceAllocator alloc = CudaDevice.get(0).allocator();
            int[][] shapes = {{10, 4}, {7, 3}, {10, 4}, {12, 1}};
            Runnable round = () -> {
                for (int[] s : shapes) {
                    Tensor x = random32(arena, Shape.of(s[0], s[1], 8));
                    try (LstmOutput y = gpu.forward(LstmInput.of(x).training(true));
                         LstmGradients g = gpu.backward(y, random32(arena, y.output().shape()))) {
                        assertEquals(Shape.of(s[0], s[1], 8), g.input().shape());
                    }
                }
            };
            for (int i = 0; i < 3; i++) round.run(); // warm the allocator and the plan cache
            long mallocs = alloc.stats().nativeAllocations();
            long inUse = alloc.stats().bytesInUse();
            long free = CudaDevice.get(0).memoryInfo().freeBytes();
            for (int i = 0; i < 50; i++) round.run();
            assertEquals(mallocs, alloc.stats().nativeAllocations(), "no cudaMalloc once warm");
            assertEquals(inUse, alloc.stats().bytesInUse(), "every call gives its buffers back");
            assertEquals(free, CudaDevice.get(0).memoryInfo().freeBytes(), "device memory unchanged over 200 calls");
        }
    }

    @Test
    void thePlanCacheIsBoundedAndReplansWithoutLeaking() {
        LstmSpec spec = LstmSpec.builder(4, 8).build();
        DeviceAllocator alloc = CudaDevice.get(0).allocator();
        long baseline = alloc.stats().bytesInUse();
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 1)) {
            CudnnLstmBackend backend = (CudnnLstmBackend) new CudnnProvider().create(spec, DType.FLOAT32);
            for (int t = 1; t <= 12; t++) {
                try (LstmOutput y = backend.forward(p, LstmInput.of(random32(arena, Shape.of(t, 2, 4))))) {
                    assertEquals(Shape.of(t, 2, 8), y.output().shape());
                }
            }
            assertEquals(8, backend.cachedPlans(), "12 shapes, at most 8 plans kept");
            backend.close();
            backend.close(); // idempotent
            assertEquals(baseline, alloc.stats().bytesInUse(), "evicted and closed plans gave all memory back");
        }
    }

    /**
     * Frozen parameters stay in the weight space from one call to the next (CudnnRnn.uploadWeights); two frozen sets
     * alternating, and a set that may change between them, must each give what their values give unfrozen.
     * Tolerance 1e-5 (1 + |x|): cuDNN's backward-weights kernels may add in another order from call to call, a few
     * ulps in sums of at most a few dozen terms here; the other set's weights would give errors of order 0.01-0.1.
     */
    @Test
    void frozenParametersUploadedOnceGiveTheirOwnResults() {
        LstmSpec spec = LstmSpec.builder(4, 8).numLayers(2).bidirectional(true).build();
        try (CudnnLstmBackend backend = (CudnnLstmBackend) new CudnnProvider().create(spec, DType.FLOAT32)) {
            FrozenParamsCheck.assertFrozenCallsMatchUnfrozen(backend, spec, 5, 3, 1e-5f);
        }
    }

    /**
     * Results in the caller's confined arena, written by the copy engine through views by address: what the calls'
     * own arenas hold. Tolerance 1e-5 (1 + |x|), as for frozen parameters: cuDNN's backward-weights kernels may add
     * in another order from call to call; results left unwritten would be off by the values themselves.
     */
    @Test
    void resultsInTheCallersConfinedArena() throws Exception {
        LstmSpec spec = LstmSpec.builder(4, 8).numLayers(2).bidirectional(true).build();
        try (Lstm gpu = Lstm.builder(spec).backend("cudnn").seed(2).build()) {
            ResultArenaCheck.assertCallerArenaResultsMatchOwn(gpu, 3, 1e-5f);
        }
    }

    @Test
    void aBadShapeFailsBeforeAnyCudnnCall() {
        LstmSpec spec = LstmSpec.builder(4, 8).build();
        try (Arena arena = Arena.ofConfined();
             CudnnLstmBackend backend = (CudnnLstmBackend) new CudnnProvider().create(spec, DType.FLOAT32);
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32)) {
            DeviceAllocator.Stats before = CudaDevice.get(0).allocator().stats();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(p, LstmInput.of(random32(arena, Shape.of(5, 2, 3)))));
            assertEquals("input: expected last dimension I=4 in [T, B, I], got shape [5, 2, 3]", e.getMessage());
            IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(p, LstmInput.of(random32(arena, Shape.of(5, 2, 4))).withLengths(5, 6)));
            assertTrue(len.getMessage().startsWith("lengths[1]: expected 1..5"), len.getMessage());
            assertEquals(0, backend.cachedPlans(), "no descriptor was set up");
            assertEquals(before, CudaDevice.get(0).allocator().stats(), "no device memory was touched");
        }
    }

    @Test
    void oneBackwardPerTrainingForward() {
        LstmSpec spec = LstmSpec.builder(2, 3).build();
        try (Arena arena = Arena.ofConfined(); Lstm gpu = Lstm.builder(spec).backend("cudnn").build();
             LstmOutput y = gpu.forward(LstmInput.of(random32(arena, Shape.of(3, 2, 2))).training(true))) {
            Tensor dy = random32(arena, y.output().shape());
            gpu.backward(y, dy).close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.backward(y, dy));
            assertTrue(e.getMessage().contains("one backward per training forward"), e.getMessage());
        }
    }

    @Test
    void aForcedPersistentAlgorithmRefusesVariableLengthsBeforeCallingCudnn() {
        LstmSpec spec = LstmSpec.builder(4, 8).build();
        try (Arena arena = Arena.ofConfined();
             CudnnLstmBackend backend = new CudnnLstmBackend(spec, DType.FLOAT32, CudaDevice.get(0),
                     CudnnAlgorithm.PERSIST_STATIC);
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(p, LstmInput.of(random32(arena, Shape.of(5, 2, 4))).withLengths(5, 3)));
            assertTrue(e.getMessage().startsWith("lengths: the cuDNN algorithm persist-static is not used with variable "
                    + "lengths"), e.getMessage());
            assertEquals(0, backend.cachedPlans());
        }
    }

    private static LstmInput input(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        LstmInput in = LstmInput.of(x).training(true);
        if (lengths != null) in = in.withLengths(lengths);
        if (h0 != null) in = in.withInitialState(h0, c0);
        return in;
    }

    private static Tensor random(Arena arena, Shape shape, SplittableRandom r, double scale) {
        Tensor t = Tensor.zeros(arena, DType.FLOAT64, shape);
        for (long i = 0; i < t.elementCount(); i++) t.setFlat(i, r.nextDouble(-scale, scale));
        return t;
    }

    private static Tensor random32(Arena arena, Shape shape) {
        return random(arena, shape, new SplittableRandom(shape.hashCode()), 1.0).to(DType.FLOAT32, arena);
    }

    private static double maxDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    private static void assertClose(String what, Tensor want, Tensor got, double tol) {
        assertEquals(want.shape(), got.shape(), what + " shape");
        double[] w = want.toDoubleArray();
        double[] g = got.toDoubleArray();
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs(w[i] - g[i]);
            if (!(err <= tol * (1 + Math.abs(w[i])))) {
                throw new AssertionError(what + ": element " + i + " of " + want.shape() + " is " + g[i]
                        + ", the reference says " + w[i] + " (error " + err + " > tolerance " + tol + ")");
            }
        }
    }
}
