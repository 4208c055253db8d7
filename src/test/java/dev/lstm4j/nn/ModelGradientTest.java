package dev.lstm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** End-to-end finite-difference checks of {@link Model} (float64, reference LSTM, dropout with a fixed seed). */
class ModelGradientTest {
    @Test
    void languageModelWithDropoutAndCarriedState() {
        ModelConfig cfg = ModelConfig.languageModel(7, 4, 2, 0.3, 0.5, DType.FLOAT64);
        try (Model model = new Model(cfg, 11, "reference"); Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(1);
            int steps = 3, batch = 2;
            int[] ids = new int[steps * batch];
            int[] targets = new int[steps * batch];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(7);
                targets[i] = r.nextInt(7);
            }
            targets[2] = SoftmaxCrossEntropy.IGNORE;
            ModelInput in = ModelInput.tokens(ids, steps, batch);
            RecurrentState state;
            try (Model.Pass p = model.forward(in, null, false, 0)) {
                state = p.finalState(); // a non-zero initial state, as truncated BPTT hands on
            }
            checkAll(model, in, state, targets);
            state.close();
        }
    }

    @Test
    void classifierWithInputLinearLastStepAndLengths() {
        ModelConfig cfg = ModelConfig.classifier(3, 5, 1, 4, 6, DType.FLOAT64);
        try (Model model = new Model(cfg, 12, "reference"); Arena arena = Arena.ofConfined()) {
            Tensor x = GradientCheck.random(arena, new SplittableRandom(2), 4, 3, 3);
            ModelInput in = ModelInput.dense(x).withLengths(new int[] {4, 2, 1});
            checkAll(model, in, null, new int[] {1, 3, 0});
        }
    }

    private static void checkAll(Model model, ModelInput in, RecurrentState state, int[] targets) {
        long seed = 77;
        model.zeroGrad();
        try (Model.Pass p = model.forward(in, state, true, seed); Arena a = Arena.ofConfined()) {
            SoftmaxCrossEntropy.Result res = SoftmaxCrossEntropy.compute(p.logits(), targets, a);
            model.backward(p, res.gradLogits());
        }
        DoubleSupplier loss = () -> {
            try (Model.Pass p = model.forward(in, state, true, seed)) {
                return SoftmaxCrossEntropy.compute(p.logits(), targets, null).meanLoss();
            }
        };
        for (Param prm : model.params()) {
            GradientCheck.check(prm.name(), prm.value(), prm.grad(), loss);
        }
        // the same seed gives the same masks, so a repeated forward gives the same loss bit for bit
        assertEquals(loss.getAsDouble(), loss.getAsDouble(), 0.0);
    }
}
