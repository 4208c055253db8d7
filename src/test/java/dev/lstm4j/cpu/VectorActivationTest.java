package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Activation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The row operation {@link VectorActivation#apply} against {@link Activation} (float64) for every ONNX kind, with
 * and without the ONNX clip, on a row of 3 whole vectors and a 7-float tail that holds the same kinks as the vector
 * part: both parts must follow the same semantics.
 *
 * <p>Tolerance 1e-6 * max(1, |exact|): float32 rounds each of the few elementary operations (2^-24 ~ 6e-8 each),
 * the Vector API's exp/tanh/log1p are within a few ulps (~1e-7 relative), and sigmoid and tanh, on VectorExp, within
 * 1.8e-7 absolute; 1e-6 is about 16 ulps. At a kink the
 * derivative is an exact constant on each side (0, 1, alpha), so a kink taken from the wrong side misses by O(1);
 * the kinks used are exactly representable in float and double (alpha 0.5, HardSigmoid 0.25 and 0.5).
 */
class VectorActivationTest {
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();
    private static final int N = 3 * LANES + 7;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String a : List.of("Sigmoid", "Tanh", "Relu", "Affine(0.5,-0.25)", "LeakyRelu(0.5)",
                "ThresholdedRelu(0.5)", "ScaledTanh(0.9,1.1)", "HardSigmoid(0.25,0.5)", "Elu(0.5)", "Softsign",
                "Softplus")) {
            out.add(Arguments.of(a, Float.POSITIVE_INFINITY));
            out.add(Arguments.of(a, 0.75f));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} clip {1}")
    @MethodSource("cases")
    void matchesActivationOnVectorsAndTail(String name, float clip) {
        Activation act = Activation.parse(name);
        float[] kinks = {0f, -0f, 0.5f, -0.5f, 2f, -2f, 0.75f, -0.75f, 0.7500001f, -3f, 25f, -25f};
        float[] x = new float[N];
        SplittableRandom r = new SplittableRandom(name.hashCode());
        for (int j = 0; j < N; j++) x[j] = (float) r.nextDouble(-4, 4);
        // the kinks in the first vector and (as many as fit) in the tail
        for (int k = 0; k < kinks.length; k++) {
            x[k % LANES] = kinks[k];
            if (k < 7) x[3 * LANES + k] = kinks[k];
        }
        try (Arena arena = Arena.ofConfined()) {
            long pad = 3 * Float.BYTES; // unaligned, nonzero byte offsets
            MemorySegment xs = arena.allocate(pad + (long) N * Float.BYTES, 64);
            MemorySegment ys = arena.allocate(pad + (long) N * Float.BYTES, 64);
            MemorySegment ds = arena.allocate(pad + (long) N * Float.BYTES, 64);
            MemorySegment yOnly = arena.allocate(pad + (long) N * Float.BYTES, 64);
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT_UNALIGNED, pad, N);
            VectorActivation va = new VectorActivation(act, clip);
            float[] work = new float[VectorExp.padded(N)];
            va.apply(xs, pad, ys, pad, ds, pad, N, work);
            va.apply(xs, pad, yOnly, pad, null, 0, N, work);
            for (int j = 0; j < N; j++) {
                double xc = Math.min(Math.max(x[j], -clip), clip);
                double y = act.apply(xc);
                double d = Math.abs(x[j]) > clip ? 0.0 : act.derivative(xc);
                float gotY = ys.get(ValueLayout.JAVA_FLOAT_UNALIGNED, pad + (long) j * Float.BYTES);
                float gotD = ds.get(ValueLayout.JAVA_FLOAT_UNALIGNED, pad + (long) j * Float.BYTES);
                String at = name + " clip " + clip + " at " + j + (j >= 3 * LANES ? " (tail)" : "") + ", x = " + x[j];
                assertTrue(Math.abs(gotY - y) <= 1e-6 * Math.max(1, Math.abs(y)), at + ": y " + gotY + " vs " + y);
                assertTrue(Math.abs(gotD - d) <= 1e-6 * Math.max(1, Math.abs(d)), at + ": d " + gotD + " vs " + d);
                assertEquals(gotY, yOnly.get(ValueLayout.JAVA_FLOAT_UNALIGNED, pad + (long) j * Float.BYTES),
                        at + ": y without the derivative");
            }
            assertEquals(0f, ys.get(F, 0), "nothing written before the row");
        }
    }

    /**
     * Sigmoid and tanh compute their last n mod LANES floats with the same float32 operations as the whole vectors,
     * so a value does not depend on the lane it lands in: the row's first 7 values again in its tail give the same
     * bits, as the standard kernels' (GeneralKernelsTest).
     */
    @ParameterizedTest(name = "{0} clip {1}")
    @MethodSource("sigmoidAndTanh")
    void sigmoidAndTanhGiveTheSameBitsInEveryLane(String name, float clip) {
        float[] x = new float[N];
        SplittableRandom r = new SplittableRandom(3);
        for (int j = 0; j < N; j++) x[j] = (float) r.nextDouble(-6, 6);
        System.arraycopy(x, 0, x, 3 * LANES, 7);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocate((long) N * Float.BYTES, 64);
            MemorySegment ys = arena.allocate((long) N * Float.BYTES, 64);
            MemorySegment ds = arena.allocate((long) N * Float.BYTES, 64);
            MemorySegment.copy(x, 0, xs, F, 0, N);
            new VectorActivation(Activation.parse(name), clip).apply(xs, 0, ys, 0, ds, 0, N,
                    new float[VectorExp.padded(N)]);
            for (int k = 0; k < 7; k++) {
                long vector = (long) k * Float.BYTES;
                long tail = (long) (3 * LANES + k) * Float.BYTES;
                assertEquals(Float.floatToRawIntBits(ys.get(F, vector)), Float.floatToRawIntBits(ys.get(F, tail)),
                        name + " y of x = " + x[k]);
                assertEquals(Float.floatToRawIntBits(ds.get(F, vector)), Float.floatToRawIntBits(ds.get(F, tail)),
                        name + " d of x = " + x[k]);
            }
        }
    }

    static Stream<Arguments> sigmoidAndTanh() {
        return Stream.of(Arguments.of("Sigmoid", Float.POSITIVE_INFINITY), Arguments.of("Sigmoid", 0.75f),
                Arguments.of("Tanh", Float.POSITIVE_INFINITY), Arguments.of("Tanh", 0.75f));
    }

    @Test
    void sigmoidRefusesAWorkRowShorterThanWholeVectors() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate((long) N * Float.BYTES, 64);
            MemorySegment y = arena.allocate((long) N * Float.BYTES, 64);
            VectorActivation sigmoid = new VectorActivation(Activation.SIGMOID, Float.POSITIVE_INFINITY);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sigmoid.apply(x, 0, y, 0, null, 0, N, new float[LANES]));
            assertTrue(e.getMessage().contains("work: expected at least " + VectorExp.padded(N)), e.getMessage());
        }
    }
}
