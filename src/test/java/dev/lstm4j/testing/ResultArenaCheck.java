package dev.lstm4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Results in the caller's arena ({@link Lstm#forward(LstmInput, Arena)}, {@link Lstm#backward(LstmOutput, Tensor,
 * Tensor, Tensor, Arena)}), for any backend: a confined arena's outputs and gradients, which a backend's worker
 * threads or copy engine write through views by address, hold what the calls' own shared arenas hold, and belong
 * to that arena (another thread cannot read them; closing the output or the gradients leaves them). A backend that
 * wrote the caller's confined memory from a worker thread fails with WrongThreadException; one that left results
 * unwritten, with errors of the order of the values.
 */
public final class ResultArenaCheck {
    private ResultArenaCheck() {}

    /**
     * Runs the check on {@code lstm} with a random float32 input of 7 steps and {@code batch} sequences.
     *
     * @param tolerance largest |caller's - own| / (1 + |own|): the same values up to the last bits in which the Vector
     *                  API's exp differs before and after C2 compiles it (1e-5 on the CPU), or a device's sums whose
     *                  order may vary by call
     */
    public static void assertCallerArenaResultsMatchOwn(Lstm lstm, int batch, float tolerance) throws Exception {
        LstmSpec spec = lstm.spec();
        int width = spec.numDirections() * spec.outputSize();
        int steps = 7;
        try (Arena inputs = Arena.ofShared()) {
            Shape xShape = spec.batchFirst() ? Shape.of(batch, steps, spec.inputSize())
                    : Shape.of(steps, batch, spec.inputSize());
            Shape yShape = spec.batchFirst() ? Shape.of(batch, steps, width) : Shape.of(steps, batch, width);
            LstmInput in = LstmInput.of(Fixtures.random(inputs, DType.FLOAT32, xShape, new SplittableRandom(1), 1))
                    .training(true);
            Tensor gradOutput = Fixtures.random(inputs, DType.FLOAT32, yShape, new SplittableRandom(2), 1);
            float[][] want = new float[5][];
            try (LstmOutput y = lstm.forward(in); LstmGradients g = lstm.backward(y, gradOutput)) {
                want[0] = y.output().toFloatArray();
                want[1] = y.hN().toFloatArray();
                want[2] = y.cN().toFloatArray();
                want[3] = g.input().toFloatArray();
                want[4] = g.params().get("weight_hh_l0").toFloatArray();
                y.close();
                g.close();
                assertFalse(y.output().segment().scope().isAlive(), "the call's own arena closes with the output");
                assertFalse(g.input().segment().scope().isAlive(), "and with the gradients");
                assertFalse(g.params().get("weight_hh_l0").segment().scope().isAlive(), "parameter gradients too");
            }

            try (Arena results = Arena.ofConfined()) {
                LstmOutput y = lstm.forward(in, results);
                LstmGradients g = lstm.backward(y, gradOutput, null, null, results);
                Tensor output = y.output();
                Tensor dW = g.params().get("weight_hh_l0");
                Tensor[] got = {output, y.hN(), y.cN(), g.input(), dW};
                String[] names = {"output", "h_n", "c_n", "dx", "dW_hh"};
                for (int i = 0; i < got.length; i++) {
                    assertClose(want[i], got[i].toFloatArray(), tolerance, names[i]);
                }
                for (Tensor t : new Tensor[] {output, g.input(), dW}) {
                    ExecutionException other = assertThrows(ExecutionException.class,
                            () -> CompletableFuture.supplyAsync(() -> t.getFlat(0)).get());
                    assertTrue(other.getCause() instanceof WrongThreadException, "confined to the caller: " + other);
                }
                y.close();
                g.close();
                assertTrue(output.segment().scope().isAlive(), "the caller's arena keeps them after the output closes");
                assertClose(want[0], output.toFloatArray(), tolerance, "output after the output closed");
                assertClose(want[4], dW.toFloatArray(), tolerance, "dW_hh after the gradients closed");
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": sizes");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * (1 + Math.abs(expected[i])), what + " [" + i + "]");
        }
    }
}
