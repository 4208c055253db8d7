package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Structural equivalences that pin the reference's stacking, direction and masking to their definitions. These
 * compare float64 computations that perform the same operations in the same order, so they must agree to 1e-12.
 */
class ReferenceEquivalenceTest {
    private static final double EXACT = 1e-12;

    @Test
    void twoLayersEqualTwoChainedSingleLayers() {
        LstmSpec two = LstmSpec.builder(3, 5).numLayers(2).build();
        LstmSpec first = LstmSpec.builder(3, 5).build();
        LstmSpec second = LstmSpec.builder(5, 5).build();
        SplittableRandom r = new SplittableRandom(1);
        try (Arena arena = Arena.ofConfined(); Lstm stack = Fixtures.reference(two, DType.FLOAT64, 3)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT64, r, 6, 2, 3);
            try (Lstm l0 = Lstm.builder(first).params(copyLayer(stack.params(), first, 0)).backend("reference").build();
                 Lstm l1 = Lstm.builder(second).params(copyLayer(stack.params(), second, 1)).backend("reference").build();
                 LstmOutput y = stack.forward(x);
                 LstmOutput y0 = l0.forward(x);
                 LstmOutput y1 = l1.forward(y0.output())) {
                assertEquals(0, Fixtures.maxAbsDiff(y.output(), y1.output()), EXACT, "output");
                assertEquals(0, Fixtures.maxAbsDiff(y.hN().slice(0), y0.hN().slice(0)), EXACT, "h_n layer 0");
                assertEquals(0, Fixtures.maxAbsDiff(y.hN().slice(1), y1.hN().slice(0)), EXACT, "h_n layer 1");
                assertEquals(0, Fixtures.maxAbsDiff(y.cN().slice(1), y1.cN().slice(0)), EXACT, "c_n layer 1");
            }
        }
    }

    /** Bidirectional = a forward LSTM concatenated with a reverse LSTM that reads each sequence backwards within its length. */
    @Test
    void bidirectionalEqualsForwardAndReversedSequence() {
        LstmSpec bidi = LstmSpec.builder(2, 4).bidirectional(true).build();
        LstmSpec uni = LstmSpec.builder(2, 4).build();
        int t = 5;
        int b = 3;
        int[] lengths = {5, 3, 1};
        SplittableRandom r = new SplittableRandom(2);
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(bidi, DType.FLOAT64, 4)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT64, r, t, b, 2);
            Tensor reversed = Tensor.zeros(arena, DType.FLOAT64, t, b, 2);
            for (int j = 0; j < b; j++) {
                for (int s = 0; s < lengths[j]; s++) {
                    for (int k = 0; k < 2; k++) {
                        reversed.set(x.get(lengths[j] - 1 - s, j, k), s, j, k);
                    }
                }
            }
            try (Lstm fwd = Lstm.builder(uni).params(copyDirection(lstm.params(), uni, 0)).backend("reference").build();
                 Lstm bwd = Lstm.builder(uni).params(copyDirection(lstm.params(), uni, 1)).backend("reference").build();
                 LstmOutput y = lstm.forward(LstmInput.of(x).withLengths(lengths));
                 LstmOutput yf = fwd.forward(LstmInput.of(x).withLengths(lengths));
                 LstmOutput yb = bwd.forward(LstmInput.of(reversed).withLengths(lengths))) {
                for (int j = 0; j < b; j++) {
                    for (int s = 0; s < t; s++) {
                        for (int k = 0; k < 4; k++) {
                            assertEquals(yf.output().get(s, j, k), y.output().get(s, j, k), EXACT);
                            double expectedBack = s < lengths[j] ? yb.output().get(lengths[j] - 1 - s, j, k) : 0.0;
                            assertEquals(expectedBack, y.output().get(s, j, 4 + k), EXACT);
                        }
                    }
                }
                assertEquals(0, Fixtures.maxAbsDiff(y.hN().slice(1), yb.hN().slice(0)), EXACT, "reverse h_n");
            }
        }
    }

    /** A padded batch with lengths gives each sequence exactly what it gives alone, and zeros past its length. */
    @Test
    void batchWithLengthsEqualsEachSequenceAlone() {
        LstmSpec spec = LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).projSize(2).peepholes(true).build();
        int t = 6;
        int[] lengths = {6, 1, 4, 2};
        SplittableRandom r = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT64, 5)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT64, r, t, lengths.length, 3);
            Tensor dy = Fixtures.random(arena, DType.FLOAT64, r, t, lengths.length, 4);
            try (LstmOutput batch = lstm.forward(LstmInput.of(x).withLengths(lengths).training(true));
                 LstmGradients gBatch = lstm.backward(batch, dy)) {
                for (int j = 0; j < lengths.length; j++) {
                    int len = lengths[j];
                    Tensor xj = Tensor.zeros(arena, DType.FLOAT64, len, 1, 3);
                    Tensor dyj = Tensor.zeros(arena, DType.FLOAT64, len, 1, 4);
                    for (int s = 0; s < len; s++) {
                        for (int k = 0; k < 3; k++) xj.set(x.get(s, j, k), s, 0, k);
                        for (int k = 0; k < 4; k++) dyj.set(dy.get(s, j, k), s, 0, k);
                    }
                    try (LstmOutput alone = lstm.forward(LstmInput.of(xj).training(true));
                         LstmGradients gAlone = lstm.backward(alone, dyj)) {
                        for (int s = 0; s < t; s++) {
                            for (int k = 0; k < 4; k++) {
                                double expected = s < len ? alone.output().get(s, 0, k) : 0.0;
                                assertEquals(expected, batch.output().get(s, j, k), EXACT, "output t=" + s + " b=" + j);
                            }
                            for (int k = 0; k < 3; k++) {
                                double expected = s < len ? gAlone.input().get(s, 0, k) : 0.0;
                                assertEquals(expected, gBatch.input().get(s, j, k), EXACT, "d input t=" + s + " b=" + j);
                            }
                        }
                        for (int state = 0; state < 4; state++) {
                            for (int k = 0; k < 2; k++) {
                                assertEquals(alone.hN().get(state, 0, k), batch.hN().get(state, j, k), EXACT, "h_n");
                            }
                            for (int k = 0; k < 4; k++) {
                                assertEquals(alone.cN().get(state, 0, k), batch.cN().get(state, j, k), EXACT, "c_n");
                            }
                        }
                    }
                }
            }
        }
    }

    /** Gradients handed in for padded steps must not reach anything. */
    @Test
    void noGradientFlowsFromPadding() {
        LstmSpec spec = LstmSpec.builder(2, 3).bidirectional(true).build();
        int[] lengths = {4, 2};
        SplittableRandom r = new SplittableRandom(4);
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT64, 6)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT64, r, 4, 2, 2);
            Tensor dy = Fixtures.random(arena, DType.FLOAT64, r, 4, 2, 6);
            Tensor dyPadded = dy.copy(arena);
            for (int s = 2; s < 4; s++) {
                for (int k = 0; k < 6; k++) dyPadded.set(1e6, s, 1, k);
            }
            try (LstmOutput y = lstm.forward(LstmInput.of(x).withLengths(lengths).training(true));
                 LstmGradients g1 = lstm.backward(y, dy);
                 LstmGradients g2 = lstm.backward(y, dyPadded)) {
                assertEquals(0, Fixtures.maxAbsDiff(g1.input(), g2.input()), EXACT);
                for (String name : g1.params().names()) {
                    assertEquals(0, Fixtures.maxAbsDiff(g1.params().get(name), g2.params().get(name)), EXACT, name);
                }
            }
        }
    }

    /**
     * float32 and float64 agree: each output is the end of about T * (I + H) = 200 rounded float32 operations through
     * contracting gates, so |error| stays below 200 * 6e-8 * max|value| ~ 1e-5 relative; we hold outputs and states to
     * 2e-5 absolute (values are O(1)) and gradients to 1e-4 relative to their largest entry (backward sums over T
     * steps and B sequences). The float32 path must also really round: it may not equal float64 exactly.
     */
    @Test
    void float32AgreesWithFloat64() {
        LstmSpec spec = LstmSpec.builder(6, 10).numLayers(2).bidirectional(true).peepholes(true).build();
        SplittableRandom r = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined();
             Lstm l64 = Fixtures.reference(spec, DType.FLOAT64, 8);
             Lstm l32 = Lstm.builder(spec).params(l64.params().to(DType.FLOAT32)).backend("reference").build()) {
            Tensor x64 = Fixtures.random(arena, DType.FLOAT64, r, 10, 3, 6);
            Tensor dy64 = Fixtures.random(arena, DType.FLOAT64, r, 10, 3, 20);
            // the float64 run uses the float32-rounded weights and inputs, so only arithmetic differs
            l64.params().copyFrom(l32.params());
            Tensor x32 = x64.to(DType.FLOAT32, arena);
            x64.copyFrom(x32);
            Tensor dy32 = dy64.to(DType.FLOAT32, arena);
            dy64.copyFrom(dy32);
            try (LstmOutput y64 = l64.forward(LstmInput.of(x64).training(true));
                 LstmOutput y32 = l32.forward(LstmInput.of(x32).training(true));
                 LstmGradients g64 = l64.backward(y64, dy64);
                 LstmGradients g32 = l32.backward(y32, dy32)) {
                double outErr = Fixtures.maxAbsDiff(y64.output(), y32.output());
                assertTrue(outErr < 2e-5, "output error " + outErr);
                assertTrue(outErr > 0, "float32 path did not round at all");
                assertTrue(Fixtures.maxAbsDiff(y64.cN(), y32.cN()) < 2e-5, "c_n");
                for (String name : g64.params().names()) {
                    double scale = Fixtures.maxAbs(g64.params().get(name));
                    double err = Fixtures.maxAbsDiff(g64.params().get(name), g32.params().get(name));
                    assertTrue(err <= 1e-4 * scale, name + ": error " + err + " vs scale " + scale);
                }
                double inErr = Fixtures.maxAbsDiff(g64.input(), g32.input());
                assertTrue(inErr <= 1e-4 * Fixtures.maxAbs(g64.input()), "d input error " + inErr);
            }
        }
    }

    private static LstmParams copyLayer(LstmParams from, LstmSpec target, int layer) {
        LstmParams p = LstmParams.zeros(target, from.dtype());
        p.weightIh(0, 0).copyFrom(from.weightIh(layer, 0));
        p.weightHh(0, 0).copyFrom(from.weightHh(layer, 0));
        p.biasIh(0, 0).copyFrom(from.biasIh(layer, 0));
        p.biasHh(0, 0).copyFrom(from.biasHh(layer, 0));
        return p;
    }

    private static LstmParams copyDirection(LstmParams from, LstmSpec target, int dir) {
        LstmParams p = LstmParams.zeros(target, from.dtype());
        p.weightIh(0, 0).copyFrom(from.weightIh(0, dir));
        p.weightHh(0, 0).copyFrom(from.weightHh(0, dir));
        p.biasIh(0, 0).copyFrom(from.biasIh(0, dir));
        p.biasHh(0, 0).copyFrom(from.biasHh(0, dir));
        return p;
    }
}
