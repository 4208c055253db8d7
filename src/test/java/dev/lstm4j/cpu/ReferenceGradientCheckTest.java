package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
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
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Central finite differences, in float64, for every element of every parameter, of the input and of the initial
 * states, over a matrix of variants. The loss is L = <output, G> + <h_n, G_h> + <c_n, G_c> with random G's, so every
 * path to the outputs is exercised.
 *
 * <p>Tolerance: |analytic - numeric| <= 1e-6 * max(1, |numeric|). With step 1e-5 the central difference has a
 * truncation error of order eps^2 * |L'''| (about 1e-9 here) and a rounding error of order 1e-16 * |L| / eps (about
 * 1e-10); a missing or wrong term in a gradient is orders of magnitude larger than 1e-6. Variants with kinked
 * activations or clips use fixed seeds whose pre-activations stay away from the kinks by far more than eps.
 */
class ReferenceGradientCheckTest {
    private static final double EPS = 1e-5;
    private static final double TOL = 1e-6;

    record Variant(String name, LstmSpec spec, int seqLength, int batch, int[] lengths, boolean initialState) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Variant v(String name, UnaryOperator<LstmSpec.Builder> f, int[] lengths, boolean initialState) {
        return new Variant(name, f.apply(LstmSpec.builder(3, 4)).build(), 4, 3, lengths, initialState);
    }

    static Stream<Arguments> variants() {
        int[] lengths = {4, 2, 3};
        List<Variant> list = new ArrayList<>();
        list.add(v("plain", b -> b, null, false));
        list.add(v("two layers", b -> b.numLayers(2), null, false));
        list.add(v("bidirectional", b -> b.bidirectional(true), null, false));
        list.add(v("projection", b -> b.projSize(2), null, false));
        list.add(v("peepholes", b -> b.peepholes(true), null, false));
        list.add(v("input-forget (CIFG)", b -> b.inputForget(true), null, false));
        list.add(v("peepholes + CIFG", b -> b.peepholes(true).inputForget(true), null, false));
        list.add(v("ONNX clip", b -> b.clip(0.4), null, false));
        list.add(v("cell clip", b -> b.cellClip(0.25), null, false));
        list.add(v("lengths", b -> b, lengths, false));
        list.add(v("initial state", b -> b, null, true));
        list.add(v("batch-first", b -> b.batchFirst(true), lengths, false));
        list.add(v("dropout between layers", b -> b.numLayers(2).dropout(0.4), null, false));
        list.add(v("activations HardSigmoid, Elu, Softsign",
                b -> b.activations(Activation.parse("HardSigmoid(0.3,0.4)"), Activation.parse("Elu(0.7)"),
                        Activation.parse("Softsign")), null, false));
        list.add(v("activations ScaledTanh, LeakyRelu, Softplus",
                b -> b.activations(Activation.parse("ScaledTanh(0.9,1.3)"), Activation.parse("LeakyRelu(0.2)"),
                        Activation.parse("Softplus")), null, false));
        list.add(v("activations Affine, Relu, ThresholdedRelu",
                b -> b.activations(Activation.parse("Affine(0.3,0.5)"), Activation.parse("Relu"),
                        Activation.parse("ThresholdedRelu(0.05)")), null, false));
        list.add(v("activations Tanh, Sigmoid, Affine",
                b -> b.activations(Activation.TANH, Activation.SIGMOID, Activation.parse("Affine(2.0,-0.1)")),
                null, false));
        list.add(v("bidirectional + projection + lengths + peepholes, 2 layers, initial state",
                b -> b.numLayers(2).bidirectional(true).projSize(3).peepholes(true), lengths, true));
        list.add(v("everything: 2 layers, bidi, projection, peepholes, CIFG, clip, cell clip, dropout, batch-first",
                b -> b.numLayers(2).bidirectional(true).projSize(2).peepholes(true).inputForget(true).clip(1.5)
                        .cellClip(0.6).dropout(0.3).batchFirst(true), lengths, true));
        return list.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void everyGradientMatchesFiniteDifferences(Variant variant) {
        LstmSpec spec = variant.spec();
        SplittableRandom r = new SplittableRandom(variant.name().hashCode());
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT64, 11)) {
            int t = variant.seqLength();
            int b = variant.batch();
            Shape inShape = spec.batchFirst() ? Shape.of(b, t, spec.inputSize()) : Shape.of(t, b, spec.inputSize());
            Tensor x = Fixtures.random(arena, DType.FLOAT64, inShape, r, 1.0);
            Tensor h0 = variant.initialState()
                    ? Fixtures.random(arena, DType.FLOAT64, LstmShapes.hiddenStateShape(spec, b), r, 0.8) : null;
            Tensor c0 = variant.initialState()
                    ? Fixtures.random(arena, DType.FLOAT64, LstmShapes.cellStateShape(spec, b), r, 0.8) : null;
            Tensor g = Fixtures.random(arena, DType.FLOAT64, LstmShapes.outputShape(spec, t, b), r, 1.0);
            Tensor gh = Fixtures.random(arena, DType.FLOAT64, LstmShapes.hiddenStateShape(spec, b), r, 1.0);
            Tensor gc = Fixtures.random(arena, DType.FLOAT64, LstmShapes.cellStateShape(spec, b), r, 1.0);
            LstmInput in = LstmInput.of(x).withLengths(variant.lengths()).withInitialState(h0, c0)
                    .training(true).withDropoutSeed(5);

            List<String> failures = new ArrayList<>();
            int checked = 0;
            try (LstmOutput out = lstm.forward(in); LstmGradients grads = lstm.backward(out, g, gh, gc)) {
                for (String name : lstm.params().names()) {
                    checked += check(name, lstm.params().get(name), grads.params().get(name), lstm, in, g, gh, gc, failures);
                }
                checked += check("input", x, grads.input(), lstm, in, g, gh, gc, failures);
                if (h0 != null) {
                    checked += check("h0", h0, grads.h0(), lstm, in, g, gh, gc, failures);
                    checked += check("c0", c0, grads.c0(), lstm, in, g, gh, gc, failures);
                }
            }
            assertTrue(failures.isEmpty(), variant + ": " + failures.size() + " of " + checked
                    + " gradient entries disagree with finite differences, first: "
                    + failures.subList(0, Math.min(5, failures.size())));
            assertTrue(checked > 50, "checked only " + checked + " entries");
        }
    }

    /** Perturbs each element of {@code target} in place and compares the numeric derivative with {@code analytic}. */
    private static int check(String name, Tensor target, Tensor analytic, Lstm lstm, LstmInput in,
                             Tensor g, Tensor gh, Tensor gc, List<String> failures) {
        for (long k = 0; k < target.elementCount(); k++) {
            double saved = target.getFlat(k);
            target.setFlat(k, saved + EPS);
            double plus = loss(lstm, in, g, gh, gc);
            target.setFlat(k, saved - EPS);
            double minus = loss(lstm, in, g, gh, gc);
            target.setFlat(k, saved);
            double numeric = (plus - minus) / (2 * EPS);
            double a = analytic.getFlat(k);
            if (!(Math.abs(a - numeric) <= TOL * Math.max(1.0, Math.abs(numeric)))) {
                failures.add(name + "[" + k + "]: analytic " + a + ", numeric " + numeric);
            }
        }
        return (int) target.elementCount();
    }

    private static double loss(Lstm lstm, LstmInput in, Tensor g, Tensor gh, Tensor gc) {
        try (LstmOutput out = lstm.forward(in)) {
            return Fixtures.dot(out.output(), g) + Fixtures.dot(out.hN(), gh) + Fixtures.dot(out.cN(), gc);
        }
    }
}
