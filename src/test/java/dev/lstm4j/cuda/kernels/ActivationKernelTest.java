package dev.lstm4j.cuda.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.Activation;
import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every ONNX activation and its derivative as the host build of the pointwise kernels computes them, against
 * {@link Activation#apply} and {@link Activation#derivative} (the reference's), on points that include each kink and
 * threshold exactly. Tolerance 1e-6 * max(1, |value|): a few float32 roundings of one function evaluation.
 */
class ActivationKernelTest {
    private static final float[] POINTS = {-3f, -1f, -0.5f, -0.1f, 0f, 0.1f, 0.25f, 0.5f, 1f, 2.5f, 31f};
    private static final double TOLERANCE = 1e-6;

    private final HostDeviceOps ops = new HostDeviceOps();
    private final DeviceOps.Workspace ws = ops.workspace();

    @AfterEach
    void close() {
        ws.close();
        ops.close();
    }

    static Stream<Activation> activations() {
        return Stream.of(Activation.of(Activation.Kind.SIGMOID), Activation.of(Activation.Kind.TANH),
                Activation.of(Activation.Kind.RELU), Activation.parse("Affine(0.7,-0.2)"),
                Activation.parse("LeakyRelu(0.1)"), Activation.parse("ThresholdedRelu(0.5)"),
                Activation.parse("ScaledTanh(1.5,0.8)"), Activation.parse("HardSigmoid(0.2,0.5)"),
                Activation.parse("Elu(0.7)"), Activation.of(Activation.Kind.SOFTSIGN),
                Activation.of(Activation.Kind.SOFTPLUS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void valueAndDerivativeMatchTheReference(Activation a) {
        int n = POINTS.length; // one batch entry per point, hidden size 1
        float[] pre = new float[4 * n];
        float[] gates = new float[4 * n];
        for (int b = 0; b < n; b++) {
            for (int q = 0; q < 4; q++) {
                pre[4 * b + q] = POINTS[b];
            }
            gates[4 * b] = 1f;     // i: makes dL/dg = 1
            gates[4 * b + 2] = 1f; // g: makes dL/di = 1
        }
        CellOptions opts = new CellOptions(CellOptions.code(a), (float) a.alpha(), (float) a.beta(),
                CellOptions.code(a), (float) a.alpha(), (float) a.beta(), 1, 0f, 0f, false, false, 0f, false, 0f);
        NativeKernels k = ops.kernels();
        DevicePtr lengths = ws.ints(new int[n]);
        for (int b = 0; b < n; b++) {
            lengths.hostSegment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, b, 1);
        }
        DevicePtr zeros4 = ws.floats(4L * n);
        DevicePtr zeros = ws.floats(n);
        DevicePtr gatesOut = ws.floats(4L * n);
        // Forward: with zero recurrent input and biases, each gate is its activation of the pre-activation given.
        k.forwardPointwise(n, 1, floats(pre), zeros4, ws.floats(4), ws.floats(4), DevicePtr.NULL, zeros,
                DevicePtr.NULL, lengths, 0, opts, ws.floats(n), ws.floats(n), DevicePtr.NULL, ws.floats(4L * n),
                gatesOut, ws.floats(n));
        // Backward with dc = 1, dm = 0 and the gates above: da_i = f'(x), da_g = g'(x).
        DevicePtr dc = floats(ones(n));
        DevicePtr da = ws.floats(4L * n);
        k.backwardPointwise(n, 1, zeros, dc, floats(pre), floats(gates), zeros, zeros, zeros, DevicePtr.NULL, lengths,
                0, opts, da, DevicePtr.NULL);
        float[] value = gatesOut.hostSegment().toArray(JAVA_FLOAT);
        float[] grad = da.hostSegment().toArray(JAVA_FLOAT);
        for (int b = 0; b < n; b++) {
            double x = POINTS[b];
            check(a + " at " + x + " (gate i)", a.apply(x), value[4 * b]);
            check(a + " at " + x + " (gate g)", a.apply(x), value[4 * b + 2]);
            check(a + "' at " + x + " (gate i)", a.derivative(x), grad[4 * b]);
            check(a + "' at " + x + " (gate g)", a.derivative(x), grad[4 * b + 2]);
        }
    }

    private static void check(String what, double expected, float actual) {
        assertEquals(expected, actual, TOLERANCE * Math.max(1, Math.abs(expected)), what);
    }

    private DevicePtr floats(float[] values) {
        DevicePtr p = ws.floats(values.length);
        MemorySegment.copy(values, 0, p.hostSegment(), JAVA_FLOAT, 0, values.length);
        return p;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
