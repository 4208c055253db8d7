package dev.lstm4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * For backends that keep what they derive from frozen parameters from one call to the next (the GPU backends' device
 * copies): two frozen
 * parameter sets, called alternately on one backend, give call after call what the same values unfrozen give. A
 * backend that kept the other set's copies, or read a set before its upload was done, fails it with errors of the
 * order of the outputs themselves.
 */
public final class FrozenParamsCheck {
    private FrozenParamsCheck() {}

    /**
     * Runs the check on {@code backend}: a training step (forward, then backward of every gradient) and an inference
     * call per round, three rounds, sets A and B alternating.
     *
     * @param tolerance largest |frozen - unfrozen| / (1 + |unfrozen|) allowed: 0 where the same kernels on the same
     *                  values give the same bits, more where the device sums in an order that may vary by call
     */
    public static void assertFrozenCallsMatchUnfrozen(LstmBackend backend, LstmSpec spec, int seqLength, int batch,
                                                      float tolerance) {
        try (Arena arena = Arena.ofConfined();
             LstmParams liveA = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5);
             LstmParams liveB = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 6);
             LstmParams frozenA = liveA.to(DType.FLOAT32).freeze();
             LstmParams frozenB = liveB.to(DType.FLOAT32).freeze()) {
            Tensor x = Fixtures.random(arena, DType.FLOAT32, Shape.of(seqLength, batch, spec.inputSize()),
                    new SplittableRandom(1), 1);
            Tensor dy = Fixtures.random(arena, DType.FLOAT32, LstmShapes.outputShape(spec, seqLength, batch),
                    new SplittableRandom(2), 1);
            List<float[]> expectedA = trainingStep(backend, liveA, x, dy);
            List<float[]> expectedB = trainingStep(backend, liveB, x, dy);
            for (int round = 0; round < 3; round++) {
                assertClose(expectedA, trainingStep(backend, frozenA, x, dy), tolerance, "set A, round " + round);
                assertClose(expectedB, trainingStep(backend, frozenB, x, dy), tolerance, "set B, round " + round);
                assertClose(expectedA.subList(0, 1), List.of(inference(backend, frozenA, x)), tolerance,
                        "set A inference, round " + round);
                // a set that may change, between frozen calls: uploaded for its call, whatever is kept
                assertClose(expectedB, trainingStep(backend, liveB, x, dy), tolerance, "set B unfrozen, round " + round);
            }
        }
    }

    /** One training step's results: output, h_n, c_n, then the gradients of the input and of every parameter. */
    public static List<float[]> trainingStep(LstmBackend backend, LstmParams p, Tensor x, Tensor dy) {
        List<float[]> all = new ArrayList<>();
        try (LstmOutput y = backend.forward(p, LstmInput.of(x).training(true));
             LstmGradients g = backend.backward(p, y, dy, null, null)) {
            all.add(y.output().toFloatArray());
            all.add(y.hN().toFloatArray());
            all.add(y.cN().toFloatArray());
            all.add(g.input().toFloatArray());
            for (String name : g.params().names()) all.add(g.params().get(name).toFloatArray());
        }
        return all;
    }

    private static float[] inference(LstmBackend backend, LstmParams p, Tensor x) {
        try (LstmOutput y = backend.forward(p, LstmInput.of(x))) {
            return y.output().toFloatArray();
        }
    }

    private static void assertClose(List<float[]> expected, List<float[]> actual, float tolerance, String what) {
        assertEquals(expected.size(), actual.size(), what + ": tensors");
        for (int k = 0; k < expected.size(); k++) {
            float[] e = expected.get(k);
            float[] a = actual.get(k);
            assertEquals(e.length, a.length, what + ", tensor " + k);
            for (int i = 0; i < e.length; i++) {
                if (!(Math.abs(e[i] - a[i]) <= tolerance * (1 + Math.abs(e[i])))) {
                    fail(what + ", tensor " + k + " element " + i + ": expected " + e[i] + " (unfrozen), got "
                            + a[i] + " (frozen), tolerance " + tolerance);
                }
            }
        }
    }
}
