package dev.lstm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.nn.Model;
import dev.lstm4j.nn.ModelConfig;
import dev.lstm4j.nn.ModelInput;
import dev.lstm4j.nn.Param;
import dev.lstm4j.nn.RecurrentState;
import dev.lstm4j.nn.SoftmaxCrossEntropy;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTest {
    @TempDir
    Path tmp;

    /**
     * Delayed copy: at step t the target is the token seen at t-2 (ignored for t < 2). An LSTM must hold two tokens
     * in its state; chance loss is ln 4 = 1.39. The bound 0.05 is far below anything a model that does not remember
     * can reach, and well above where Adam ends in 300 steps.
     */
    @Test
    void learnsADelayedCopyToNearZeroLoss() {
        int vocab = 4, steps = 8, batch = 16;
        ModelConfig cfg = ModelConfig.languageModel(vocab, 16, 1, 0.0, 0.0, DType.FLOAT32);
        try (Model model = new Model(cfg, 3, "auto"); Adam adam = new Adam(0.9, 0.999, 1e-8, 0, false)) {
            Trainer trainer = new Trainer(model, adam, LrSchedule.constant(0.02), 5, 3);
            SplittableRandom r = new SplittableRandom(5);
            double last = Double.NaN;
            for (int i = 0; i < 300; i++) {
                int[] x = new int[steps * batch];
                int[] y = new int[steps * batch];
                for (int k = 0; k < x.length; k++) x[k] = r.nextInt(vocab);
                for (int t = 0; t < steps; t++) {
                    for (int b = 0; b < batch; b++) y[t * batch + b] = t < 2 ? SoftmaxCrossEntropy.IGNORE : x[(t - 2) * batch + b];
                }
                last = trainer.step(ModelInput.tokens(x, steps, batch), y, null, false, 0).loss();
            }
            assertTrue(last < 0.05, "loss after 300 steps: " + last);
        }
    }

    @Test
    void resumeFromACheckpointTakesTheIdenticalNextStep() throws Exception {
        // a token model with dropout (masks come from seed and step) and SGD momentum, state carried (TBPTT)
        checkResume(ModelConfig.languageModel(9, 6, 2, 0.25, 0.1, DType.FLOAT32), "sgd", true);
        // a classifier with an input Linear and AdamW
        checkResume(ModelConfig.classifier(3, 5, 1, 4, 6, DType.FLOAT32), "adamw", false);
    }

    private void checkResume(ModelConfig cfg, String optimizer, boolean tokens) throws Exception {
        Path file = tmp.resolve(optimizer + ".safetensors");
        List<ModelInput> inputs = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(8);
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
        for (int i = 0; i < 4; i++) {
            if (tokens) {
                int[] x = new int[4 * 3];
                int[] y = new int[4 * 3];
                for (int k = 0; k < x.length; k++) {
                    x[k] = r.nextInt(9);
                    y[k] = r.nextInt(9);
                }
                inputs.add(ModelInput.tokens(x, 4, 3));
                targets.add(y);
            } else {
                Tensor x = Tensor.zeros(arena, DType.FLOAT32, 5, 3, 3);
                for (long k = 0; k < x.elementCount(); k++) x.setFlat(k, r.nextDouble(-1, 1));
                inputs.add(ModelInput.dense(x));
                targets.add(new int[] {r.nextInt(4), r.nextInt(4), r.nextInt(4)});
            }
        }
        float[][] afterContinued;
        float[][] afterResumed;
        try (Model model = new Model(cfg, 21, "auto");
             Optimizer opt = Optimizers.create(optimizer, 0.9, 0.9, 0.999, 1e-8, 0.01)) {
            Trainer trainer = new Trainer(model, opt, LrSchedule.cosine(0.05, 0.001, 10), 1.0, 4);
            RecurrentState state = null;
            for (int i = 0; i < 3; i++) {
                Trainer.Step s = trainer.step(inputs.get(i), targets.get(i), state, tokens, 0);
                state = s.finalState();
            }
            TrainingCheckpoint.save(file, model, opt, Map.of("task", "test"));
            trainer.step(inputs.get(3), targets.get(3), state, false, 0);
            afterContinued = snapshot(model);
            if (state != null) {
                // the carried state is not part of the checkpoint; the resumed run gets the same one handed in
                try (TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(file, "auto")) {
                    assertEquals(3, ck.optimizer().steps());
                    new Trainer(ck.model(), ck.optimizer(), LrSchedule.cosine(0.05, 0.001, 10), 1.0, 4)
                            .step(inputs.get(3), targets.get(3), state, false, 0);
                    afterResumed = snapshot(ck.model());
                }
                state.close();
            } else {
                try (TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(file, "auto")) {
                    new Trainer(ck.model(), ck.optimizer(), LrSchedule.cosine(0.05, 0.001, 10), 1.0, 4)
                            .step(inputs.get(3), targets.get(3), null, false, 0);
                    afterResumed = snapshot(ck.model());
                }
            }
        }
        arena.close();
        assertEquals(afterContinued.length, afterResumed.length);
        for (int i = 0; i < afterContinued.length; i++) {
            assertArrayEquals(afterContinued[i], afterResumed[i], 0f, optimizer + ": parameter " + i + " after the resumed step");
        }
    }

    @Test
    void aSeededRunIsReproducibleAndTheSeedMatters() {
        ModelConfig cfg = ModelConfig.languageModel(9, 6, 2, 0.3, 0.1, DType.FLOAT32);
        float[][] a = trainThreeSteps(cfg, 5);
        float[][] b = trainThreeSteps(cfg, 5);
        float[][] c = trainThreeSteps(cfg, 6);
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], 0f, "parameter " + i);
        boolean differs = false;
        for (int i = 0; i < a.length; i++) differs |= !java.util.Arrays.equals(a[i], c[i]);
        assertTrue(differs, "another seed gives another run");
    }

    private static float[][] trainThreeSteps(ModelConfig cfg, long seed) {
        try (Model model = new Model(cfg, seed, "auto"); Sgd sgd = new Sgd(0.9, 0)) {
            Trainer trainer = new Trainer(model, sgd, LrSchedule.constant(0.5), 5, seed);
            SplittableRandom r = new SplittableRandom(1); // the same data for every seed
            for (int i = 0; i < 3; i++) {
                int[] x = new int[12];
                int[] y = new int[12];
                for (int k = 0; k < 12; k++) {
                    x[k] = r.nextInt(9);
                    y[k] = r.nextInt(9);
                }
                trainer.step(ModelInput.tokens(x, 4, 3), y, null, false, 0);
            }
            return snapshot(model);
        }
    }

    @Test
    void aCorruptCheckpointIsRefused() throws Exception {
        Path file = tmp.resolve("bad.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.load(file, "auto"));
    }

    private static float[][] snapshot(Model m) {
        float[][] out = new float[m.params().size()][];
        int i = 0;
        for (Param p : m.params()) out[i++] = p.value().toFloatArray();
        return out;
    }
}
