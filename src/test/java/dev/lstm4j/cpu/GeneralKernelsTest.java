package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Initializer;
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
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The general pointwise kernels (any clip, cell clip, coupled gate or activation) compute sigmoid and tanh with the
 * same float32 operations as the standard ones (VectorExp, 1 / (1 + e^-x), 1 - 2 / (1 + e^2x)), so where no clip
 * binds (bounds of 1e30) a spec that takes them gives the standard spec's results bit for bit: forward and every
 * gradient, in whole vectors and in the last lanes. With the Vector API's EXP and TANH, as before, they differed
 * in the last bits, and differed between interpreted and compiled code, so that runs did not repeat across
 * processes (README, "Training").
 */
class GeneralKernelsTest {

    @ParameterizedTest(name = "H={0}, peepholes {1}, {2}")
    @CsvSource({"7, false, cell clip", "20, false, clip", "33, false, both", "7, true, clip", "20, true, cell clip",
            "33, true, both"})
    void sameBitsAsTheStandardKernelsWhereNoBoundBinds(int hidden, boolean peepholes, String bounds) {
        LstmSpec standard = LstmSpec.builder(5, hidden).peepholes(peepholes).build();
        UnaryOperator<LstmSpec.Builder> unbound = switch (bounds) {
            case "cell clip" -> b -> b.cellClip(1e30);
            case "clip" -> b -> b.clip(1e30);
            default -> b -> b.clip(1e30).cellClip(1e30);
        };
        LstmSpec general = unbound.apply(standard.toBuilder()).build();
        assertTrue(new FusedPointwise(standard).standardKernels(), "the standard spec takes the standard kernels");
        assertFalse(new FusedPointwise(general).standardKernels(), "the spec with bounds takes the general kernels");
        for (int threads : new int[] {1, 2}) {
            try (Arena arena = Arena.ofConfined();
                 LstmParams params = LstmParams.initialized(standard, DType.FLOAT32, Initializer.pytorchUniform(), 3);
                 FastCpuBackend a = new FastCpuBackend(standard, threads);
                 FastCpuBackend b = new FastCpuBackend(general, threads)) {
                SplittableRandom r = new SplittableRandom(8);
                if (peepholes) fill(params.weightPeep(0, 0), r, 0.5);
                int batch = 6;
                int steps = 5;
                LstmInput in = LstmInput.of(random(arena, Shape.of(steps, batch, 5), r, 3.0)).training(true);
                Tensor dy = random(arena, LstmShapes.outputShape(standard, steps, batch), r, 1.0);
                try (LstmOutput ya = a.forward(params, in); LstmOutput yb = b.forward(params, in)) {
                    String at = threads + " threads: ";
                    assertSameBits(at + "output", ya.output(), yb.output());
                    assertSameBits(at + "h_n", ya.hN(), yb.hN());
                    assertSameBits(at + "c_n", ya.cN(), yb.cN());
                    try (LstmGradients ga = a.backward(params, ya, dy, null, null);
                         LstmGradients gb = b.backward(params, yb, dy, null, null)) {
                        assertSameBits(at + "d input", ga.input(), gb.input());
                        assertSameBits(at + "d c0", ga.c0(), gb.c0());
                        for (String n : standard.parameterNames()) {
                            assertSameBits(at + "d " + n, ga.params().get(n), gb.params().get(n));
                        }
                    }
                }
            }
        }
    }

    private static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.shape(), actual.shape(), what + " shape");
        for (long k = 0; k < expected.elementCount(); k++) {
            float e = (float) expected.getFlat(k);
            float g = (float) actual.getFlat(k);
            long at = k;
            assertEquals(Float.floatToRawIntBits(e), Float.floatToRawIntBits(g),
                    () -> what + " at flat index " + at + ": standard " + e + ", general " + g);
        }
    }

    private static Tensor random(Arena arena, Shape shape, SplittableRandom r, double scale) {
        Tensor t = Tensor.zeros(arena, DType.FLOAT32, shape);
        fill(t, r, scale);
        return t;
    }

    private static void fill(Tensor t, SplittableRandom r, double scale) {
        for (long k = 0; k < t.elementCount(); k++) t.setFlat(k, (float) r.nextDouble(-scale, scale));
    }
}
