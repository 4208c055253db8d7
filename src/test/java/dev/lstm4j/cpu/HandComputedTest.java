package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Cases whose answers are computed by hand (or by the equations written out in the test), not by the code under test. */
class HandComputedTest {

    /**
     * The worked example of the classic LSTM tutorial: one unit, input x = (x1, x2, x3), cell input z and output
     * activation linear, gates sigmoid, recurrent weights all 1, weights for z = (1, 0, 0), for z_i = (0, 100, 0)
     * with bias -10, for z_f = (0, 100, 0) with bias +10, for z_o = (0, 0, 100) with bias -10, zero initial state.
     * x2 opens the input gate and keeps the forget gate open (x2 = -1 closes it), x3 opens the output gate.
     *
     * <p>Mapping to our equations: z is our g with activation g = Affine(1, 0) (identity), the tutorial's output
     * nonlinearity h is Affine(1, 0); gate rows i, f, g, o of weight_ih are (0,100,0), (0,100,0), (1,0,0), (0,0,100);
     * weight_hh is all ones; bias_ih = (-10, +10, 0, -10) and bias_hh = 0 (the tutorial has one bias).
     *
     * <p>Tolerance 1e-3: the saturated gates are within sigma(-10) = 4.5e-5 of 0 or 1; multiplied by cell values up
     * to 7 and accumulated over at most three steps, that leaves at most about 1e-3 between the ideal values and ours.
     */
    @Test
    void classicTutorialExample() {
        Activation identity = Activation.parse("Affine(1,0)");
        LstmSpec spec = LstmSpec.builder(3, 1).activations(Activation.SIGMOID, identity, identity).build();
        try (Arena arena = Arena.ofConfined(); LstmParams p = LstmParams.zeros(spec, DType.FLOAT64)) {
            p.weightIh(0, 0).copyFrom(new double[] {0, 100, 0, /* f */ 0, 100, 0, /* g */ 1, 0, 0, /* o */ 0, 0, 100});
            p.weightHh(0, 0).copyFrom(new double[] {1, 1, 1, 1});
            p.biasIh(0, 0).copyFrom(new double[] {-10, 10, 0, -10});
            double[] xs = {3, 1, 0, 4, 1, 0, 2, 0, 0, 1, 0, 1, 3, -1, 0};
            Tensor x = Tensor.of(arena, DType.FLOAT64, Shape.of(5, 1, 3), xs);
            try (Lstm lstm = Lstm.builder(spec).params(p.to(DType.FLOAT64)).backend("reference").build()) {
                double[] outputs = new double[5];
                double[] cells = new double[5];
                for (int t = 1; t <= 5; t++) { // c_n of the first t steps is the cell value at step t
                    Tensor prefix = Tensor.of(arena, DType.FLOAT64, Shape.of(t, 1, 3), java.util.Arrays.copyOf(xs, 3 * t));
                    try (LstmOutput out = lstm.forward(LstmInput.of(prefix))) {
                        cells[t - 1] = out.cN().getFlat(0);
                    }
                }
                try (LstmOutput out = lstm.forward(LstmInput.of(x))) {
                    outputs = out.output().toDoubleArray();
                }
                assertArrayEquals(new double[] {3, 7, 7, 7, 0}, cells, 1e-3, "cell values");
                assertArrayEquals(new double[] {0, 0, 0, 7, 0}, outputs, 1e-3, "outputs");
            }
        }
    }

    /**
     * One step of one unit with peepholes, written out from the ONNX equations with the numbers below: i and f see
     * c(t-1) through p_i and p_f, o sees the new c(t) through p_o. Exact up to float64 rounding (1e-12).
     */
    @Test
    void peepholeStepFollowsOnnxEquations() {
        LstmSpec spec = LstmSpec.builder(1, 1).peepholes(true).build();
        double wi = 0.5, wf = -0.3, wg = 0.8, wo = 0.2;     // W x weights per gate
        double ri = 0.1, rf = 0.4, rg = -0.6, ro = 0.7;     // R h weights
        double bi = 0.05, bf = 0.3, bg = -0.1, bo = 0.2;    // one bias per gate (bias_ih), bias_hh zero
        double pi = 0.9, pf = -0.5, po = 1.1;               // peepholes
        double x = 1.3, h0 = -0.4, c0 = 0.6;
        try (Arena arena = Arena.ofConfined(); LstmParams p = LstmParams.zeros(spec, DType.FLOAT64)) {
            p.weightIh(0, 0).copyFrom(new double[] {wi, wf, wg, wo});
            p.weightHh(0, 0).copyFrom(new double[] {ri, rf, rg, ro});
            p.biasIh(0, 0).copyFrom(new double[] {bi, bf, bg, bo});
            p.weightPeep(0, 0).copyFrom(new double[] {pi, pf, po});
            double i = sigmoid(wi * x + ri * h0 + pi * c0 + bi);
            double f = sigmoid(wf * x + rf * h0 + pf * c0 + bf);
            double g = Math.tanh(wg * x + rg * h0 + bg);
            double c = f * c0 + i * g;
            double o = sigmoid(wo * x + ro * h0 + po * c + bo);
            double h = o * Math.tanh(c);
            try (Lstm lstm = Lstm.builder(spec).params(p.to(DType.FLOAT64)).backend("reference").build();
                 LstmOutput out = lstm.forward(LstmInput.of(Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {x}))
                         .withInitialState(Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {h0}),
                                 Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {c0})))) {
                assertEquals(h, out.output().getFlat(0), 1e-12, "h");
                assertEquals(c, out.cN().getFlat(0), 1e-12, "c");
            }
        }
    }

    /**
     * ONNX clip bounds every activation's input while the state carries on unclipped; cuDNN's cell clip bounds c
     * itself. With large weights every pre-activation exceeds the threshold, so the values below are exact.
     */
    @Test
    void onnxClipBoundsActivationInputsAndCellClipBoundsTheState() {
        double x = 2.0;
        try (Arena arena = Arena.ofConfined()) {
            Tensor in = Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {x});
            // Every gate row weight 10: pre-activations are 20.
            LstmSpec onnx = LstmSpec.builder(1, 1).clip(0.5).build();
            try (LstmParams p = LstmParams.zeros(onnx, DType.FLOAT64)) {
                p.weightIh(0, 0).copyFrom(new double[] {10, 10, 10, 10});
                try (Lstm lstm = Lstm.builder(onnx).params(p.to(DType.FLOAT64)).backend("reference").build();
                     LstmOutput out = lstm.forward(in)) {
                    double gate = sigmoid(0.5);
                    double c = gate * Math.tanh(0.5);               // c0 = 0, so only i * g
                    double h = gate * Math.tanh(Math.min(c, 0.5));  // c < 0.5 here: the clip of c is inactive
                    assertEquals(c, out.cN().getFlat(0), 1e-12, "ONNX clip: c is not clipped itself");
                    assertEquals(h, out.output().getFlat(0), 1e-12, "ONNX clip: h");
                }
            }
            LstmSpec cudnn = LstmSpec.builder(1, 1).cellClip(0.5).build();
            try (LstmParams p = LstmParams.zeros(cudnn, DType.FLOAT64)) {
                p.weightIh(0, 0).copyFrom(new double[] {10, 10, 10, 10});
                p.weightHh(0, 0).copyFrom(new double[] {0, 0, 0, 0});
                try (Lstm lstm = Lstm.builder(cudnn).params(p.to(DType.FLOAT64)).backend("reference").build();
                     LstmOutput out = lstm.forward(in)) {
                    double gate = sigmoid(20);
                    double cRaw = gate * Math.tanh(20);  // about 1.0, above the clip
                    assertEquals(Math.min(cRaw, 0.5), out.cN().getFlat(0), 1e-12, "cell clip: c clamped");
                    assertEquals(gate * Math.tanh(0.5), out.output().getFlat(0), 1e-12, "cell clip: h reads clamped c");
                }
            }
        }
    }

    /** The coupled gate: f = 1 - i exactly, whatever the forget-gate weights say. */
    @Test
    void inputForgetCouplesTheForgetGate() {
        LstmSpec spec = LstmSpec.builder(1, 1).inputForget(true).build();
        try (Arena arena = Arena.ofConfined(); LstmParams p = LstmParams.zeros(spec, DType.FLOAT64)) {
            p.weightIh(0, 0).copyFrom(new double[] {0.7, 55.0, -0.4, 0.3}); // the f row must be ignored
            double x = 0.9, c0 = 0.8;
            double i = sigmoid(0.7 * x);
            double c = (1 - i) * c0 + i * Math.tanh(-0.4 * x);
            try (Lstm lstm = Lstm.builder(spec).params(p.to(DType.FLOAT64)).backend("reference").build();
                 LstmOutput out = lstm.forward(LstmInput.of(Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {x}))
                         .withInitialState(Tensor.zeros(arena, DType.FLOAT64, 1, 1, 1),
                                 Tensor.of(arena, DType.FLOAT64, Shape.of(1, 1, 1), new double[] {c0})))) {
                assertEquals(c, out.cN().getFlat(0), 1e-12);
            }
        }
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
