package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cpu.FastCpuBackendEquivalenceTest.Pair;
import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast backend ({@code cpu}), and the GPU kernels' host build ({@code kernels-host}), on specs and shapes drawn at
 * random (a fixed seed, so every run draws the same cases): sizes from 1 to 650, batches from 1 to 130 (the batch
 * chunks begin at 64 rows), 1 to 3 layers, projection, bidirectional, peepholes, coupled input-forget gate, clip,
 * cell clip, dropout, batch-first, ONNX activations, initial state, sequence lengths, frozen parameters, 1 or 2
 * threads, and the recurrent GEMM on the packed kernel or OpenBLAS; inference or a training step. Between them they
 * take every way {@link FastCpuPlan} runs a step, in combinations that the hand-picked cases of
 * {@link FastCpuBackendEquivalenceTest} do not reach: of the 160 cases, 93 fuse their steps, 49 do not, 18 run on
 * sgemv with one row and 1 with a few rows a row at a time, 20 in batch chunks, 7 with pipelined layers, 33 a lone recurrence on 2 threads, 29 with the
 * recurrent GEMM on OpenBLAS; 128 are training steps and 32 inference calls.
 *
 * <p>The yardstick is the float32 reference backend: it and the backend under test run the same
 * float32-representable data, and each is compared with the float64 reference. For every tensor (output, h_n, c_n
 * and, in training, every gradient) the tested backend's largest error must be at most 4 times the float32
 * reference's plus 1e-6 of the tensor's largest magnitude (at least 1). Both round in float32 with sums in different
 * orders, so their errors are of one size; the floor, about 16 units of float32's last place, covers the tensors that
 * the float32 reference happens to get nearly exact. Over about 4,000 drawn cases each (probes, 2026-12-07) the
 * largest ratio was 1.65 for {@code cpu} and 1.48 for {@code kernels-host}; a fixed tolerance cannot serve sizes this
 * far apart, and where clip's derivative jumps (an argument on one side of the bound in float32 and on the other in
 * float64) both float32 backends are off by the same jump. A wrong term, row or step is off by 1e-3 to 1 and fails
 * by orders of magnitude; checked to fail with a far smaller fault: the standard backward kernel's dc_{t-1}
 * multiplied by 1.0001 fails 31 of the {@code cpu} cases (those whose H fills a vector), the same in the CUDA kernel
 * ({@code lstm_pointwise.cuh}) 116 of the {@code kernels-host} cases. Gate activations are bounded ones (sigmoid-like f, bounded
 * g and h): with Relu or Softplus as f the cell state grows without bound and float32 overflows where float64 does
 * not.
 */
class RandomSpecsTest {
    private static final int CASES = 160;
    /** Multiply-adds per call above which a drawn shape is drawn again: keeps the float64 reference quick. */
    private static final double MOST_WORK = 6e7;
    private static final double RATIO = 4;
    private static final double FLOOR = 1e-6;
    private static final String[] GATE_ACTIVATIONS = {"Sigmoid", "HardSigmoid", "HardSigmoid(0.2,0.5)"};
    private static final String[] BOUNDED_ACTIVATIONS =
            {"Tanh", "Softsign", "ScaledTanh(0.9,1.1)", "HardSigmoid", "Sigmoid"};

    record Case(LstmSpec spec, int batch, int seqLength, int threads, boolean state, boolean lengths,
                boolean frozen, boolean training, RecurrentGemm gemm, long seed) {
        @Override
        public String toString() {
            return spec + " B=" + batch + " T=" + seqLength + " threads=" + threads + (state ? " h0/c0" : "")
                    + (lengths ? " lengths" : "") + (frozen ? " frozen" : "") + (training ? " training" : " inference")
                    + " recurrent GEMM " + gemm;
        }
    }

    static Stream<Case> cases() {
        SplittableRandom r = new SplittableRandom(20261207);
        List<Case> cases = new ArrayList<>();
        while (cases.size() < CASES) {
            int in = pick(r, 1, 3, 5, 16, 28, 33, 64, 100, 130, 300, 650);
            int h = pick(r, 1, 2, 7, 15, 16, 17, 31, 32, 33, 48, 64, 100, 128, 129, 160, 300, 650);
            LstmSpec.Builder b = LstmSpec.builder(in, h).numLayers(1 + r.nextInt(3)).bidirectional(r.nextInt(3) == 0);
            if (h > 1 && r.nextInt(5) == 0) b.projSize(1 + r.nextInt(h - 1));
            if (r.nextInt(3) == 0) b.peepholes(true);
            if (r.nextInt(10) == 0) b.inputForget(true);
            if (r.nextInt(10) == 0) b.clip(0.3 + r.nextDouble());
            if (r.nextInt(10) == 0) b.cellClip(0.3 + r.nextDouble());
            if (r.nextInt(5) == 0) b.batchFirst(true);
            if (r.nextInt(8) == 0) b.dropout(0.3);
            if (r.nextInt(7) == 0) {
                b.activations(Activation.parse(GATE_ACTIVATIONS[r.nextInt(GATE_ACTIVATIONS.length)]),
                        Activation.parse(BOUNDED_ACTIVATIONS[r.nextInt(BOUNDED_ACTIVATIONS.length)]),
                        Activation.parse(BOUNDED_ACTIVATIONS[r.nextInt(BOUNDED_ACTIVATIONS.length)]));
            }
            LstmSpec spec = b.build();
            int batch = pick(r, 1, 1, 2, 3, 4, 7, 8, 20, 32, 33, 63, 64, 65, 100, 128, 130);
            int seqLength = pick(r, 1, 2, 3, 6, 11, 20, 28);
            double work = (double) batch * seqLength * spec.numLayers() * spec.numDirections() * 4.0 * h
                    * (Math.max(in, h) + h);
            boolean training = r.nextInt(4) != 0;
            Case c = new Case(spec, batch, seqLength, 1 + r.nextInt(2), r.nextBoolean(), r.nextInt(3) == 0,
                    r.nextInt(4) == 0, training, r.nextInt(6) == 0 ? RecurrentGemm.BLAS : RecurrentGemm.PACKED,
                    r.nextLong());
            if (work <= MOST_WORK) {
                cases.add(c);
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cpuAsAccurateAsTheFloat32Reference(Case c) {
        check(c, "cpu", p32 -> {
            FastCpuBackend fast = new FastCpuBackend(c.spec(), c.threads(), c.gemm());
            return new Run() {
                public LstmOutput forward(LstmInput in) { return fast.forward(p32, in); }
                public LstmGradients backward(LstmOutput y, Tensor dy, Tensor dhN, Tensor dcN) {
                    return fast.backward(p32, y, dy, dhN, dcN);
                }
                public void close() { fast.close(); }
            };
        });
    }

    /**
     * The GPU kernels' sources built with g++ (backend {@code kernels-host}, through the orchestration the GPU
     * backend runs), on the same cases: their index arithmetic at shapes beyond one thread block, which the GPU
     * itself is not here to run. The case's threads and GEMM setting are the {@code cpu} backend's and do not apply.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void kernelsHostAsAccurateAsTheFloat32Reference(Case c) {
        check(c, "kernels-host", p32 -> {
            Lstm host = Lstm.builder(c.spec()).dtype(DType.FLOAT32).backend("kernels-host").params(p32).build();
            return new Run() {
                public LstmOutput forward(LstmInput in) { return host.forward(in); }
                public LstmGradients backward(LstmOutput y, Tensor dy, Tensor dhN, Tensor dcN) {
                    return host.backward(y, dy, dhN, dcN);
                }
                public void close() { host.close(); }
            };
        });
    }

    /** The backend under test, on the case's float32 parameters. */
    private interface Run extends AutoCloseable {
        LstmOutput forward(LstmInput in);

        LstmGradients backward(LstmOutput y, Tensor dy, Tensor dhN, Tensor dcN);

        @Override
        void close();
    }

    private static void check(Case c, String backend, Function<LstmParams, Run> open) {
        LstmSpec spec = c.spec();
        SplittableRandom r = new SplittableRandom(c.seed());
        try (Arena arena = Arena.ofConfined();
             LstmParams p32 = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), c.seed());
             LstmBackend ref64 = new ReferenceBackend(spec, DType.FLOAT64);
             LstmBackend ref32 = new ReferenceBackend(spec, DType.FLOAT32)) {
            if (spec.peepholes()) { // the initializer may leave them at zero
                for (int l = 0; l < spec.numLayers(); l++) {
                    for (int d = 0; d < spec.numDirections(); d++) {
                        FastCpuBackendEquivalenceTest.fill(p32.weightPeep(l, d), r, 0.5);
                    }
                }
            }
            try (LstmParams p64 = p32.to(DType.FLOAT64)) {
                if (c.frozen()) {
                    p32.freeze();
                }
                int in = spec.inputSize();
                Shape xShape = spec.batchFirst() ? Shape.of(c.batch(), c.seqLength(), in)
                        : Shape.of(c.seqLength(), c.batch(), in);
                Pair x = Pair.random(arena, xShape, r, 1.0);
                LstmInput in64 = LstmInput.of(x.f64()).training(c.training()).withDropoutSeed(5);
                LstmInput in32 = LstmInput.of(x.f32()).training(c.training()).withDropoutSeed(5);
                if (c.state()) {
                    Pair h0 = Pair.random(arena, LstmShapes.hiddenStateShape(spec, c.batch()), r, 0.5);
                    Pair c0 = Pair.random(arena, LstmShapes.cellStateShape(spec, c.batch()), r, 0.5);
                    in64 = in64.withInitialState(h0.f64(), c0.f64());
                    in32 = in32.withInitialState(h0.f32(), c0.f32());
                }
                if (c.lengths()) {
                    int[] lengths = new int[c.batch()];
                    for (int k = 0; k < lengths.length; k++) {
                        lengths[k] = k == 0 ? c.seqLength() : 1 + r.nextInt(c.seqLength());
                    }
                    in64 = in64.withLengths(lengths);
                    in32 = in32.withLengths(lengths);
                }
                try (Run tested = open.apply(p32);
                     LstmOutput y64 = ref64.forward(p64, in64);
                     LstmOutput y32 = ref32.forward(p32, in32);
                     LstmOutput yTested = tested.forward(in32)) {
                    assertAsClose(backend, "output", y64.output(), y32.output(), yTested.output());
                    assertAsClose(backend, "h_n", y64.hN(), y32.hN(), yTested.hN());
                    assertAsClose(backend, "c_n", y64.cN(), y32.cN(), yTested.cN());
                    if (!c.training()) {
                        return;
                    }
                    Pair dy = Pair.random(arena, LstmShapes.outputShape(spec, c.seqLength(), c.batch()), r, 1.0);
                    Pair dhN = Pair.random(arena, LstmShapes.hiddenStateShape(spec, c.batch()), r, 1.0);
                    Pair dcN = Pair.random(arena, LstmShapes.cellStateShape(spec, c.batch()), r, 1.0);
                    try (LstmGradients g64 = ref64.backward(p64, y64, dy.f64(), dhN.f64(), dcN.f64());
                         LstmGradients g32 = ref32.backward(p32, y32, dy.f32(), dhN.f32(), dcN.f32());
                         LstmGradients gTested = tested.backward(yTested, dy.f32(), dhN.f32(), dcN.f32())) {
                        assertAsClose(backend, "d input", g64.input(), g32.input(), gTested.input());
                        if (c.state()) {
                            assertAsClose(backend, "d h0", g64.h0(), g32.h0(), gTested.h0());
                            assertAsClose(backend, "d c0", g64.c0(), g32.c0(), gTested.c0());
                        }
                        for (String n : spec.parameterNames()) {
                            assertAsClose(backend, "d " + n, g64.params().get(n), g32.params().get(n),
                                    gTested.params().get(n));
                        }
                    }
                }
            }
        }
    }

    /** tested's largest |error| against exact (float64) within RATIO x float32's plus FLOOR x max(1, max |exact|). */
    private static void assertAsClose(String backend, String what, Tensor exact, Tensor float32, Tensor tested) {
        assertEquals(exact.shape(), tested.shape(), what + " shape");
        double[] e = exact.toDoubleArray();
        double[] f = tested.toDoubleArray();
        int where = Fixtures.worstIndex(e, f);
        double err = where < 0 ? 0 : Math.abs(e[where] - f[where]); // NaN fails the comparison below
        double scale = Math.max(1, Fixtures.maxAbs(exact));
        double float32Error = Fixtures.maxAbsDiff(exact, float32);
        double limit = RATIO * (float32Error + FLOOR * scale);
        assertTrue(err <= limit, () -> what + ": max |" + backend + " - float64| " + err + " at flat index " + where
                + " (float64 " + e[where] + ", " + backend + " " + f[where] + "), allowed " + limit
                + " (the float32 reference's max error " + RATIO + " times, plus the floor)");
    }

    private static int pick(SplittableRandom r, int... values) {
        return values[r.nextInt(values.length)];
    }
}
