package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class LstmSpecTest {

    @Test
    void parameterNamesAndShapesFollowPyTorch() {
        LstmSpec spec = LstmSpec.builder(5, 8).numLayers(2).bidirectional(true).projSize(3).peepholes(true).build();
        List<String> names = spec.parameterNames();
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0", "weight_peep_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_hr_l0_reverse", "weight_peep_l0_reverse"), names.subList(0, 12));
        assertEquals(24, names.size());
        assertEquals(Shape.of(32, 5), spec.parameterShape("weight_ih_l0"));
        assertEquals(Shape.of(32, 6), spec.parameterShape("weight_ih_l1"));        // 2 directions * proj 3
        assertEquals(Shape.of(32, 3), spec.parameterShape("weight_hh_l1_reverse"));
        assertEquals(Shape.of(3, 8), spec.parameterShape("weight_hr_l1"));
        assertEquals(Shape.of(24), spec.parameterShape("weight_peep_l1_reverse"));
    }

    @Test
    void toBuilderRoundTripsAndEqualityCoversEveryField() {
        LstmSpec a = LstmSpec.builder(5, 8).numLayers(3).clip(2).cellClip(1).dropout(0.1).batchFirst(true)
                .inputForget(true).activations(Activation.parse("HardSigmoid"), Activation.TANH, Activation.parse("Softsign"))
                .build();
        assertEquals(a, a.toBuilder().build());
        assertEquals(a.hashCode(), a.toBuilder().build().hashCode());
        assertTrue(!a.equals(a.toBuilder().cellClip(Double.NaN).build()));
    }

    @Test
    void pytorchInitialiserStaysWithinOneOverSqrtH() {
        LstmSpec spec = LstmSpec.builder(3, 16).build();
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 3)) {
            double k = 0.25;
            for (Tensor t : p.asMap().values()) {
                for (double v : t.toDoubleArray()) assertTrue(Math.abs(v) <= k);
            }
        }
    }

    @Test
    void kerasInitialiserGivesOrthonormalRecurrentColumnsAndUnitForgetBias() {
        LstmSpec spec = LstmSpec.builder(3, 6).build();
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT64, Initializer.keras(true), 4)) {
            Tensor w = p.weightHh(0, 0); // [24, 6]
            for (int a = 0; a < 6; a++) {
                for (int b = 0; b < 6; b++) {
                    double dot = 0;
                    for (int r = 0; r < 24; r++) dot += w.get(r, a) * w.get(r, b);
                    assertEquals(a == b ? 1.0 : 0.0, dot, 1e-12);
                }
            }
            for (int j = 0; j < 24; j++) {
                assertEquals(j >= 6 && j < 12 ? 1.0 : 0.0, p.biasIh(0, 0).getFlat(j));
            }
        }
    }
}
