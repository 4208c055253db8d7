package dev.lstm4j.cuda.kernels;

import static dev.lstm4j.cuda.kernels.ReferenceComparison.TOLERANCE;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cuda.kernels.ReferenceComparison.Case;
import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The g++ build of the kernels, through the real orchestration (backend "kernels-host", float32), against the
 * float64 reference, for every variant: forward results and every gradient (input, h0, c0, each parameter).
 * Tolerance: see {@link ReferenceComparison}.
 */
class HostKernelsVsReferenceTest {

    static Stream<Case> variants() {
        List<Case> cases = new ArrayList<>();
        cases.add(ReferenceComparison.of("standard", LstmSpec.builder(4, 5).build(), 5, 3));
        cases.add(ReferenceComparison.of("peepholes", LstmSpec.builder(4, 5).peepholes(true).build(), 5, 3));
        cases.add(ReferenceComparison.of("CIFG (input-forget)", LstmSpec.builder(4, 5).inputForget(true).build(), 5, 3));
        cases.add(ReferenceComparison.of("peepholes + CIFG",
                LstmSpec.builder(4, 5).peepholes(true).inputForget(true).build(), 5, 3));
        for (Activation.Kind kind : Activation.Kind.values()) {
            // ThresholdedRelu at its default alpha = 1 as the gate activation zeroes every gate for weights of this
            // size, which would test nothing; alpha = 0.1 keeps both sides of the threshold in play.
            Activation a = kind == Activation.Kind.THRESHOLDED_RELU ? Activation.of(kind, 0.1) : Activation.of(kind);
            // Smaller weights for Softplus, whose gates exceed 1 and make the state grow geometrically; a given
            // initial state puts c where h(c) is not flat (ThresholdedRelu(0.1) of a cell grown from 0 stays 0).
            double scale = kind == Activation.Kind.SOFTPLUS ? 0.25 : 0.5;
            cases.add(ReferenceComparison.of("activation " + a + " as f, g and h",
                    LstmSpec.builder(3, 4).peepholes(true).activations(a, a, a).build(), 4, 3)
                    .withWeightScale(scale).withInitialState());
        }
        cases.add(ReferenceComparison.of("activations with non-default alpha/beta",
                LstmSpec.builder(3, 4).activations(Activation.parse("HardSigmoid(0.3,0.45)"),
                        Activation.parse("ScaledTanh(1.5,0.7)"), Activation.parse("LeakyRelu(0.2)")).build(), 4, 3));
        cases.add(ReferenceComparison.of("activations Elu(0.5), Affine(0.8,0.1), ThresholdedRelu(0.2)",
                LstmSpec.builder(3, 4).activations(Activation.parse("Elu(0.5)"), Activation.parse("Affine(0.8,0.1)"),
                        Activation.parse("ThresholdedRelu(0.2)")).build(), 4, 3));
        cases.add(ReferenceComparison.of("ONNX clip", LstmSpec.builder(4, 5).peepholes(true).clip(0.4).build(), 5, 3));
        cases.add(ReferenceComparison.of("cuDNN cell clip",
                LstmSpec.builder(4, 5).peepholes(true).cellClip(0.25).build(), 5, 3));
        cases.add(ReferenceComparison.of("variable lengths",
                LstmSpec.builder(4, 5).peepholes(true).build(), 5, 4).withLengths(5, 1, 3, 4));
        cases.add(ReferenceComparison.of("bidirectional, variable lengths",
                LstmSpec.builder(4, 5).bidirectional(true).peepholes(true).build(), 5, 4).withLengths(2, 5, 1, 4));
        cases.add(ReferenceComparison.of("three layers",
                LstmSpec.builder(3, 4).numLayers(3).peepholes(true).build(), 4, 3));
        cases.add(ReferenceComparison.of("two bidirectional layers, variable lengths",
                LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).build(), 5, 3).withLengths(5, 2, 3));
        cases.add(ReferenceComparison.of("projection",
                LstmSpec.builder(4, 6).projSize(3).peepholes(true).build(), 5, 3).withLengths(5, 2, 4));
        cases.add(ReferenceComparison.of("projection, bidirectional, two layers",
                LstmSpec.builder(4, 6).projSize(2).numLayers(2).bidirectional(true).build(), 4, 3).withLengths(4, 1, 3));
        cases.add(ReferenceComparison.of("batch-first",
                LstmSpec.builder(4, 5).batchFirst(true).bidirectional(true).build(), 5, 3).withLengths(3, 5, 1));
        cases.add(ReferenceComparison.of("given initial states",
                LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).projSize(3).peepholes(true).build(), 4, 3)
                .withLengths(4, 2, 1).withInitialState());
        cases.add(ReferenceComparison.of("no gradient for h_n and c_n (null)",
                LstmSpec.builder(4, 5).peepholes(true).build(), 4, 2).withoutStateGradients());
        cases.add(ReferenceComparison.of("inter-layer dropout (same masks as the reference)",
                LstmSpec.builder(3, 4).numLayers(3).bidirectional(true).dropout(0.4).build(), 4, 3).withLengths(4, 3, 2));
        cases.add(ReferenceComparison.of("batch 1, one step",
                LstmSpec.builder(2, 3).peepholes(true).build(), 1, 1));
        cases.add(ReferenceComparison.of("more than one 256-thread block (B*H = 360)",
                LstmSpec.builder(3, 40).peepholes(true).build(), 3, 9).withLengths(3, 1, 2, 3, 3, 2, 1, 3, 2));
        cases.add(ReferenceComparison.of("everything at once",
                LstmSpec.builder(3, 6).numLayers(2).bidirectional(true).projSize(4).peepholes(true).inputForget(true)
                        .activations(Activation.parse("HardSigmoid"), Activation.parse("Softsign"),
                                Activation.parse("ScaledTanh(1.2,0.9)"))
                        .clip(0.9).cellClip(0.6).dropout(0.3).batchFirst(true).build(), 6, 4)
                .withLengths(6, 3, 1, 5).withInitialState());
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheFloat64Reference(Case c) {
        try (LstmParams w = c.weights()) {
            Map<String, double[]> kernels = ReferenceComparison.run(c, "kernels-host", DType.FLOAT32, w);
            Map<String, double[]> reference = ReferenceComparison.run(c, "reference", DType.FLOAT64, w);
            // A case whose results are all (near) zero would pass without testing anything.
            assertTrue(ReferenceComparison.maxAbs(reference.get("output")) > 1e-2, c + ": degenerate output");
            assertTrue(ReferenceComparison.maxAbs(reference.get("d weight_ih_l0")) > 1e-2, c + ": degenerate gradient");
            ReferenceComparison.assertClose(c, kernels, reference);
        }
    }

    /** The tolerance is tight enough to see a semantic error: a spec that differs in one feature fails it. */
    @Test
    void theComparisonDetectsAWrongVariant() {
        LstmSpec peep = LstmSpec.builder(4, 5).peepholes(true).build();
        Case c = ReferenceComparison.of("peepholes", peep, 5, 3).withLengths(5, 2, 4);
        try (LstmParams w = c.weights()) {
            Map<String, double[]> reference = ReferenceComparison.run(c, "reference", DType.FLOAT64, w);
            double right = ReferenceComparison.worstScaledError(
                    ReferenceComparison.run(c, "kernels-host", DType.FLOAT32, w), reference);
            assertTrue(right <= TOLERANCE, "the same variant agrees: " + right);
            for (Case wrong : List.of(
                    c.withSpec("cell clip 0.25", peep.toBuilder().cellClip(0.25).build()),
                    c.withSpec("ONNX clip 0.4", peep.toBuilder().clip(0.4).build()),
                    c.withSpec("CIFG", peep.toBuilder().inputForget(true).build()),
                    c.withoutLengths("lengths ignored"))) {
                try (LstmParams same = wrong.weights()) { // same seed and shapes: the same values
                    double error = ReferenceComparison.worstScaledError(
                            ReferenceComparison.run(wrong, "kernels-host", DType.FLOAT32, same), reference);
                    assertTrue(error > 100 * TOLERANCE, wrong + " should differ far beyond the tolerance, got " + error);
                }
            }
        }
    }
}
