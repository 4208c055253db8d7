package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.Initializer;
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
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Without an initial state the first step's product skips W_hh (h_{t-1} is zero there); given zeros as h0 and c0,
 * it computes it. Both must give the same outputs, final states and gradients, on every way the backend runs a
 * step, in training and in inference. (That a given, non-zero state is not skipped is held by the equivalence
 * tests, whose cases mostly give one.)
 *
 * <p>Tolerance 1e-5 relative: the product adds zeros, so the values agree to the bit but for the Vector API's exp,
 * which may differ in the last bits before and after C2 compiles the pointwise kernels between the two calls; one
 * input column left out of the first step, or W_hh skipped with a state given, is O(0.1) off.
 */
class ZeroStartTest {
    static final int STEPS = 5;

    static Stream<Arguments> paths() {
        return Stream.of(
                Arguments.of("one thread, fused steps", LstmSpec.builder(8, 20).build(), 3, 1),
                Arguments.of("one thread, a projection and per-step W_hh", LstmSpec.builder(8, 300).build(), 3, 1),
                Arguments.of("one recurrence on a team", LstmSpec.builder(8, 70).peepholes(true).build(), 5, 2),
                Arguments.of("the layer pipeline", LstmSpec.builder(8, 20).numLayers(2).build(), 5, 2),
                Arguments.of("batch chunks, fused", LstmSpec.builder(8, 20).build(), 64, 2),
                Arguments.of("two directions with lengths", LstmSpec.builder(8, 20).bidirectional(true).build(), 6,
                        2),
                Arguments.of("one row", LstmSpec.builder(8, 20).numLayers(2).build(), 1, 2),
                Arguments.of("projection", LstmSpec.builder(8, 20).projSize(7).build(), 4, 2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void noInitialStateIsTheZeroState(String name, LstmSpec spec, int batch, int threads) {
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(spec, threads);
             Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(5);
            Tensor x = Fixtures.random(arena, DType.FLOAT32, Shape.of(STEPS, batch, spec.inputSize()), r, 1);
            Tensor dy = Fixtures.random(arena, DType.FLOAT32,
                    Shape.of(STEPS, batch, spec.numDirections() * spec.outputSize()), r, 1);
            LstmInput none = LstmInput.of(x);
            LstmInput zeros = LstmInput.of(x).withInitialState(
                    Tensor.zeros(arena, DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch)),
                    Tensor.zeros(arena, DType.FLOAT32, LstmShapes.cellStateShape(spec, batch)));
            if (batch == 6) {
                int[] lengths = {STEPS, 3, 1, STEPS, 4, 2}; // the reverse direction's first step: rows 1-5 masked
                none = none.withLengths(lengths);
                zeros = zeros.withLengths(lengths);
            }
            try (LstmOutput a = fast.forward(p, none); LstmOutput b = fast.forward(p, zeros)) {
                assertClose(b.output(), a.output(), name + ", inference output");
                assertClose(b.cN(), a.cN(), name + ", inference c_n");
            }
            try (LstmOutput a = fast.forward(p, none.training(true));
                 LstmOutput b = fast.forward(p, zeros.training(true));
                 LstmGradients ga = fast.backward(p, a, dy, null, null);
                 LstmGradients gb = fast.backward(p, b, dy, null, null)) {
                assertClose(b.output(), a.output(), name + ", training output");
                assertClose(b.hN(), a.hN(), name + ", h_n");
                assertClose(gb.input(), ga.input(), name + ", dx");
                assertClose(gb.h0(), ga.h0(), name + ", d h0");
                for (String param : p.names()) {
                    assertClose(gb.params().get(param), ga.params().get(param), name + ", d " + param);
                }
            }
        }
    }

    /**
     * A call of one step from no initial state reads no W_hh, and packs none (weights too large to fuse, which pack
     * W_hh per call); the next call of one step with a state must then pack its own parameters' W_hh, not read what
     * an earlier call left. Both against the float32 reference: sums of 300 products of weights within +-0.06 and
     * values within +-1 round to about 1e-6; another W_hh than the parameters' is O(0.1) off.
     */
    @ParameterizedTest(name = "{0} threads")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void oneStepFromNoStateLeavesNoPackForTheNext(int threads) {
        LstmSpec spec = LstmSpec.builder(8, 300).build();
        int batch = 3;
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             LstmParams other = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 4);
             FastCpuBackend fast = new FastCpuBackend(spec, threads);
             ReferenceBackend reference = new ReferenceBackend(spec, DType.FLOAT32);
             Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(6);
            Tensor x = Fixtures.random(arena, DType.FLOAT32, Shape.of(1, batch, spec.inputSize()), r, 1);
            Tensor longer = Fixtures.random(arena, DType.FLOAT32, Shape.of(3, batch, spec.inputSize()), r, 1);
            LstmInput state = LstmInput.of(x).withInitialState(
                    Fixtures.random(arena, DType.FLOAT32, LstmShapes.hiddenStateShape(spec, batch), r, 1),
                    Fixtures.random(arena, DType.FLOAT32, LstmShapes.cellStateShape(spec, batch), r, 1));
            fast.forward(other, LstmInput.of(longer)).close(); // packs the other parameters' W_hh
            try (LstmOutput a = fast.forward(p, LstmInput.of(x));
                 LstmOutput e = reference.forward(p, LstmInput.of(x))) {
                assertClose(e.output(), a.output(), "one step from no state");
            }
            try (LstmOutput a = fast.forward(p, state); LstmOutput e = reference.forward(p, state)) {
                assertClose(e.output(), a.output(), "one step from a state, after one from none");
                assertClose(e.cN(), a.cN(), "its c_n");
            }
        }
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what + ": sizes");
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], 1e-5f * (1 + Math.abs(e[i])), what + " [" + i + "]");
        }
    }
}
