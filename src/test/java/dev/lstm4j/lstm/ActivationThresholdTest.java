package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * ONNX ThresholdedRelu is "y = x for x > alpha, y = 0 otherwise" (operator docs; the function body is
 * Where(Less(alpha, X), X, 0)): at x = alpha exactly the value, and so the derivative, is 0.
 */
class ActivationThresholdTest {
    @Test
    void thresholdedReluIsZeroAtItsThreshold() {
        Activation a = Activation.parse("ThresholdedRelu(0.5)");
        assertEquals(0.0, a.apply(0.5), 0);
        assertEquals(0.0, a.derivative(0.5), 0);
        assertEquals(0.5000001, a.apply(0.5000001), 0);
        assertEquals(1.0, a.derivative(0.5000001), 0);
    }
}
