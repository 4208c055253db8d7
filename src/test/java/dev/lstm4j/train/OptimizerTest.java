package dev.lstm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Optimizer updates against hand-computed values of PyTorch's update rules (float64, so exact to 1e-15). */
class OptimizerTest {
    private static Param param(Arena a, double[] w, double[] g) {
        return new Param("p", Tensor.of(a, DType.FLOAT64, Shape.of(w.length), w), Tensor.of(a, DType.FLOAT64, Shape.of(g.length), g));
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        try (Arena a = Arena.ofConfined(); Sgd sgd = new Sgd(0.9, 0.1)) {
            Param p = param(a, new double[] {1.0}, new double[] {0.5});
            sgd.step(List.of(p), 0.1);
            // g = 0.5 + 0.1*1 = 0.6; v = 0.6; w = 1 - 0.06 = 0.94
            assertEquals(0.94, p.value().getFlat(0), 1e-15);
            sgd.step(List.of(p), 0.1);
            // g = 0.5 + 0.094 = 0.594; v = 0.9*0.6 + 0.594 = 1.134; w = 0.94 - 0.1134 = 0.8266
            assertEquals(0.8266, p.value().getFlat(0), 1e-15);
            assertEquals(2, sgd.steps());
        }
    }

    @Test
    void adamFirstStepIsLrTimesSignAndSecondFollowsTheBiasCorrection() {
        try (Arena a = Arena.ofConfined(); Adam adam = new Adam(0.9, 0.999, 1e-8, 0, false)) {
            Param p = param(a, new double[] {1.0, -2.0}, new double[] {0.3, -4.0});
            adam.step(List.of(p), 0.01);
            // m_hat = g, v_hat = g^2: w -= lr * g / (|g| + eps)
            assertEquals(1.0 - 0.01 * 0.3 / (0.3 + 1e-8), p.value().getFlat(0), 1e-15);
            assertEquals(-2.0 + 0.01 * 4.0 / (4.0 + 1e-8), p.value().getFlat(1), 1e-15);
            p.grad().setFlat(0, -0.1);
            double w = p.value().getFlat(0);
            adam.step(List.of(p), 0.01);
            double m = 0.9 * 0.1 * 0.3 + 0.1 * -0.1;
            double v = 0.999 * 0.001 * 0.09 + 0.001 * 0.01;
            double expect = w - 0.01 * (m / (1 - 0.81)) / (Math.sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
            assertEquals(expect, p.value().getFlat(0), 1e-15);
        }
    }

    @Test
    void adamwDecaysTheWeightOutsideTheMoments() {
        try (Arena a = Arena.ofConfined(); Adam adamw = new Adam(0.9, 0.999, 1e-8, 0.5, true)) {
            Param p = param(a, new double[] {2.0}, new double[] {1.0});
            adamw.step(List.of(p), 0.1);
            // w = 2 * (1 - 0.1 * 0.5) - 0.1 * 1 / (1 + 1e-8)
            assertEquals(2.0 * 0.95 - 0.1 / (1 + 1e-8), p.value().getFlat(0), 1e-15);
        }
    }

    @Test
    void float32UpdatesAgreeWithFloat64() {
        try (Arena a = Arena.ofConfined(); Adam a64 = Adam.defaults(); Adam a32 = Adam.defaults()) {
            Param p64 = param(a, new double[] {0.5, -0.25}, new double[] {0.125, 2.0});
            Param p32 = new Param("p", p64.value().to(DType.FLOAT32, a), p64.grad().to(DType.FLOAT32, a));
            for (int i = 0; i < 3; i++) {
                a64.step(List.of(p64), 1e-3);
                a32.step(List.of(p32), 1e-3);
            }
            // float32 rounding of O(1) values: a few ulps of 6e-8
            for (int i = 0; i < 2; i++) assertEquals(p64.value().getFlat(i), p32.value().getFlat(i), 1e-6);
        }
    }

    @Test
    void schedules() {
        LrSchedule ptb = LrSchedule.stepDecay(1.0, 4, 0.5); // Zaremba small: 4 flat epochs, then halve
        assertEquals(1.0, ptb.lr(3, 0), 0);
        assertEquals(0.5, ptb.lr(4, 0), 0);
        assertEquals(0.125, ptb.lr(6, 0), 0);
        LrSchedule cos = LrSchedule.cosine(1.0, 0.1, 100);
        assertEquals(1.0, cos.lr(0, 0), 1e-15);
        assertEquals(0.55, cos.lr(0, 50), 1e-15);
        assertEquals(0.1, cos.lr(0, 100), 1e-15);
        assertEquals(0.1, cos.lr(0, 1000), 1e-15);
    }

    @Test
    void clippingScalesTheGlobalNorm() {
        try (Arena a = Arena.ofConfined()) {
            Param p = param(a, new double[] {0, 0}, new double[] {3, 0});
            Param q = param(a, new double[] {0}, new double[] {4});
            List<Param> ps = List.of(p, q);
            assertEquals(5.0, GradientClipping.clip(ps, 1.0), 1e-15);
            assertEquals(1.0, GradientClipping.globalNorm(ps), 1e-6); // scaled by 1 / (5 + 1e-6)
            assertEquals(0.6, p.grad().getFlat(0), 1e-6);
            assertEquals(1.0, GradientClipping.clip(ps, 2.0), 1e-6);  // under the bound: untouched
            assertEquals(0.8, q.grad().getFlat(0), 1e-6);
        }
    }
}
