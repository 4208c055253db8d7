package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationTest {

    /** Values from the ONNX operator definitions, evaluated by hand at points away from kinks. */
    @Test
    void onnxDefinitions() {
        assertEquals(1 / (1 + Math.exp(-0.3)), Activation.parse("Sigmoid").apply(0.3), 1e-15);
        assertEquals(0.0, Activation.parse("Relu").apply(-2), 0);
        assertEquals(0.5 * 2 + 0.25, Activation.parse("Affine(0.5,0.25)").apply(2), 1e-15);
        assertEquals(-0.02, Activation.parse("LeakyRelu").apply(-2), 1e-15); // default alpha 0.01
        assertEquals(0.0, Activation.parse("ThresholdedRelu").apply(0.9), 0); // default alpha 1
        assertEquals(1.5, Activation.parse("ThresholdedRelu").apply(1.5), 0);
        assertEquals(2 * Math.tanh(0.5 * 0.4), Activation.parse("ScaledTanh(2,0.5)").apply(0.4), 1e-15);
        assertEquals(0.2 * 1 + 0.5, Activation.parse("HardSigmoid").apply(1), 1e-15); // defaults 0.2, 0.5
        assertEquals(1.0, Activation.parse("HardSigmoid").apply(10), 0);
        assertEquals(Math.exp(-1) - 1, Activation.parse("Elu").apply(-1), 1e-15);
        assertEquals(-0.5, Activation.parse("Softsign").apply(-1), 1e-15);
        assertEquals(Math.log(1 + Math.E), Activation.parse("Softplus").apply(1), 1e-15);
        assertEquals(100.0, Activation.parse("Softplus").apply(100), 1e-12); // no overflow
    }

    /** Each derivative matches a central difference (step 1e-6, error O(1e-11); tolerance 1e-7) at points off the kinks. */
    @ParameterizedTest
    @EnumSource(Activation.Kind.class)
    void derivativesMatchFiniteDifferences(Activation.Kind kind) {
        Activation a = Activation.of(kind);
        for (double x : new double[] {-2.3, -0.7, 0.35, 1.6, 3.1}) {
            double h = 1e-6;
            double numeric = (a.apply(x + h) - a.apply(x - h)) / (2 * h);
            assertEquals(numeric, a.derivative(x), 1e-7, kind + " at " + x);
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.Kind.class)
    void textFormRoundTrips(Activation.Kind kind) {
        Activation a = Activation.of(kind);
        assertEquals(a, Activation.parse(a.toString()));
    }

    @Test
    void unknownNamesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.parse("Swish"));
        assertEquals(true, e.getMessage().contains("'Swish'"));
    }
}
