package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The "done when": a peephole LSTM trains through {@link Lstm} with the backend forced to "kernels-host",
 * and its losses equal those of the float64 reference trained the same way (same initial weights, data, steps).
 *
 * <p>Task: unit 0 of the output at step t should be 0.5 * sin(x[0] + ... + x[t]) (first input feature), a small
 * memory task; loss = 0.5 * mean over (t, b) of the squared error; plain SGD.
 *
 * <p>Tolerance: |loss_kernels - loss_reference| <= 1e-5 * max(1, loss). Each step's gradients agree to ~1e-6 relative
 * (HostKernelsVsReferenceTest), so after 12 steps of learning rate 3 the float32 weights stay within ~1e-5 of the
 * float64 ones, which moves a loss of order 0.1 by well under 1e-5; a real difference in the math (a peephole
 * gradient off, a wrong gate) changes the loss after one update by 1e-3 or more.
 */
class PeepholeTrainingTest {
    static final int STEPS = 12;
    private static final double LEARNING_RATE = 3.0;
    static final double TOLERANCE = 1e-5;

    @Test
    void peepholeLstmTrainsOnHostKernelsLikeTheReference() {
        LstmSpec spec = LstmSpec.builder(2, 6).peepholes(true).build();
        double[] kernelLosses;
        double[] referenceLosses;
        try (LstmParams init = ReferenceComparison.weights(spec, 2024, 0.4)) {
            kernelLosses = train(spec, "kernels-host", DType.FLOAT32, init);
            referenceLosses = train(spec, "reference", DType.FLOAT64, init);
        }
        for (int s = 0; s < STEPS; s++) {
            assertEquals(referenceLosses[s], kernelLosses[s], TOLERANCE * Math.max(1, referenceLosses[s]),
                    "loss at SGD step " + s);
        }
        assertTrue(referenceLosses[STEPS - 1] < 0.7 * referenceLosses[0],
                "training lowers the loss: " + referenceLosses[0] + " -> " + referenceLosses[STEPS - 1]);
    }

    static double[] train(LstmSpec spec, String backend, DType dtype, LstmParams init) {
        int steps = 6;
        int batch = 8;
        SplittableRandom random = new SplittableRandom(7);
        double[] losses = new double[STEPS];
        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(dtype).backend(backend).params(init.to(dtype)).build()) {
            assertEquals(BackendKind.parse(backend), lstm.backendChoice().kind());
            Tensor x = ReferenceComparison.uniform(arena, dtype, Shape.of(steps, batch, 2), random, 1.0);
            double[][] target = new double[steps][batch];
            for (int b = 0; b < batch; b++) {
                double sum = 0;
                for (int t = 0; t < steps; t++) {
                    sum += x.get(t, b, 0);
                    target[t][b] = 0.5 * Math.sin(sum);
                }
            }
            for (int s = 0; s < STEPS; s++) {
                try (LstmOutput out = lstm.forward(LstmInput.of(x).training(true))) {
                    Tensor dy = Tensor.zeros(arena, dtype, out.output().shape());
                    double loss = 0;
                    double n = steps * batch;
                    for (int t = 0; t < steps; t++) {
                        for (int b = 0; b < batch; b++) {
                            double err = out.output().get(t, b, 0) - target[t][b];
                            loss += 0.5 * err * err / n;
                            dy.set(err / n, t, b, 0);
                        }
                    }
                    losses[s] = loss;
                    try (LstmGradients g = lstm.backward(out, dy)) {
                        for (String name : spec.parameterNames()) {
                            Tensor p = lstm.params().get(name);
                            Tensor dp = g.params().get(name);
                            for (long i = 0; i < p.elementCount(); i++) {
                                p.setFlat(i, p.getFlat(i) - LEARNING_RATE * dp.getFlat(i));
                            }
                        }
                    }
                }
            }
        }
        return losses;
    }
}
