package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A layer built by hand in each foreign layout, run through that system's own equations written out here (not
 * through an adapter), gives the same output as our reference backend on the imported weights. Both sides are
 * float64 and differ only in summation order, so they must agree to 1e-12 on values of order one.
 */
class ForeignEquationsTest {
    private static final double TOL = 1e-12;
    private static final int T = 4, B = 2, I = 3, H = 5;
    private final Arena arena = Arena.ofConfined();
    private final SplittableRandom random = new SplittableRandom(42);

    @AfterEach
    void close() {
        arena.close();
    }

    private double[] rand(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = random.nextDouble(-0.8, 0.8);
        return a;
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private Tensor t(double[] v, long... dims) {
        return Tensor.of(arena, DType.FLOAT64, Shape.of(dims), v);
    }

    /** Runs our reference on the imported weights and returns output [T, B, width] and h_n, c_n. */
    private double[][] ours(Map<String, Tensor> foreign, WeightFormat format, VariantOptions options, double[] x) {
        try (ImportedWeights w = WeightFiles.fromTensors(Path.of("hand-built"), foreign, Map.of(), format, options,
                DType.FLOAT64);
             Lstm lstm = Lstm.builder(w.params().spec()).backend("reference").params(w.params().to(DType.FLOAT64)).build();
             LstmOutput out = lstm.forward(LstmInput.of(t(x, T, B, I)))) {
            return new double[][] {out.output().toDoubleArray(), out.hN().toDoubleArray(), out.cN().toDoubleArray()};
        }
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int k = 0; k < want.length; k++) {
            assertEquals(want[k], got[k], TOL, what + "[" + k + "]");
        }
    }

    /** Keras: z = x K + h RK + b, K [I, 4H], RK [H, 4H], columns i, f, c, o. */
    @Test
    void keras() {
        double[] k = rand(I * 4 * H), rk = rand(H * 4 * H), b = rand(4 * H), x = rand(T * B * I);
        double[] want = new double[T * B * H];
        double[] hn = new double[B * H], cn = new double[B * H];
        for (int bi = 0; bi < B; bi++) {
            double[] h = new double[H], c = new double[H];
            for (int step = 0; step < T; step++) {
                double[] z = b.clone();
                for (int j = 0; j < 4 * H; j++) {
                    for (int q = 0; q < I; q++) z[j] += x[(step * B + bi) * I + q] * k[q * 4 * H + j];
                    for (int m = 0; m < H; m++) z[j] += h[m] * rk[m * 4 * H + j];
                }
                for (int j = 0; j < H; j++) {
                    double ig = sigmoid(z[j]), fg = sigmoid(z[H + j]), cc = Math.tanh(z[2 * H + j]), og = sigmoid(z[3 * H + j]);
                    c[j] = fg * c[j] + ig * cc;
                    h[j] = og * Math.tanh(c[j]);
                    want[(step * B + bi) * H + j] = h[j];
                }
            }
            System.arraycopy(h, 0, hn, bi * H, H);
            System.arraycopy(c, 0, cn, bi * H, H);
        }
        Map<String, Tensor> f = new LinkedHashMap<>();
        f.put("lstm/lstm_cell/kernel:0", t(k, I, 4 * H));
        f.put("lstm/lstm_cell/recurrent_kernel:0", t(rk, H, 4 * H));
        f.put("lstm/lstm_cell/bias:0", t(b, 4 * H));
        double[][] got = ours(f, WeightFormat.KERAS, VariantOptions.DEFAULT, x);
        assertClose(want, got[0], "keras output");
        assertClose(hn, got[1], "keras h_n");
        assertClose(cn, got[2], "keras c_n");
    }

    /**
     * ONNX, bidirectional, with B, P, clip and non-default activations, as the operator defines it (gate blocks
     * i, o, f, c; P = [Pi, Po, Pf]; clip bounds every activation's input):
     * it = f(Xt Wi' + Ht-1 Ri' + Pi . Ct-1 + Wbi + Rbi), ft likewise with Pf, ct = g(Xt Wc' + Ht-1 Rc' + Wbc + Rbc),
     * Ct = ft . Ct-1 + it . ct, ot = f(Xt Wo' + Ht-1 Ro' + Po . Ct + Wbo + Rbo), Ht = ot . h(Ct).
     */
    @Test
    void onnxBidirectionalWithPeepholesClipAndActivations() {
        int d2 = 2;
        double[] w = rand(d2 * 4 * H * I), r = rand(d2 * 4 * H * H), bb = rand(d2 * 8 * H), p = rand(d2 * 3 * H);
        double[] x = rand(T * B * I);
        Activation fAct = Activation.parse("HardSigmoid(0.3,0.45)");
        Activation gAct = Activation.TANH;
        Activation hAct = Activation.parse("Softsign");
        double clip = 1.25;
        double[] want = new double[T * B * 2 * H];
        double[] hn = new double[2 * B * H];
        for (int d = 0; d < 2; d++) {
            for (int bi = 0; bi < B; bi++) {
                double[] h = new double[H], c = new double[H];
                for (int s = 0; s < T; s++) {
                    int step = d == 0 ? s : T - 1 - s;
                    double[][] pre = new double[4][H]; // i, o, f, c
                    for (int gate = 0; gate < 4; gate++) {
                        for (int j = 0; j < H; j++) {
                            int row = gate * H + j;
                            double z = bb[d * 8 * H + row] + bb[d * 8 * H + 4 * H + row];
                            for (int q = 0; q < I; q++) z += x[(step * B + bi) * I + q] * w[(d * 4 * H + row) * I + q];
                            for (int m = 0; m < H; m++) z += h[m] * r[(d * 4 * H + row) * H + m];
                            pre[gate][j] = z;
                        }
                    }
                    double[] nh = new double[H];
                    for (int j = 0; j < H; j++) {
                        double pi = p[d * 3 * H + j], po = p[d * 3 * H + H + j], pf = p[d * 3 * H + 2 * H + j];
                        double it = fAct.apply(clamp(pre[0][j] + pi * c[j], clip));
                        double ft = fAct.apply(clamp(pre[2][j] + pf * c[j], clip));
                        double ct = gAct.apply(clamp(pre[3][j], clip));
                        double cNew = ft * c[j] + it * ct;
                        double ot = fAct.apply(clamp(pre[1][j] + po * cNew, clip));
                        c[j] = cNew;
                        nh[j] = ot * hAct.apply(clamp(cNew, clip));
                        want[(step * B + bi) * 2 * H + d * H + j] = nh[j];
                    }
                    h = nh;
                }
                System.arraycopy(h, 0, hn, (d * B + bi) * H, H);
            }
        }
        Map<String, Tensor> f = new LinkedHashMap<>();
        f.put("W", t(w, 2, 4 * H, I));
        f.put("R", t(r, 2, 4 * H, H));
        f.put("B", t(bb, 2, 8 * H));
        f.put("P", t(p, 2, 3 * H));
        VariantOptions options = new VariantOptions(new Activation[] {fAct, gAct, hAct}, clip, false, false);
        double[][] got = ours(f, WeightFormat.ONNX, options, x);
        assertClose(want, got[0], "onnx Y");
        assertClose(hn, got[1], "onnx Y_h");
    }

    private static double clamp(double v, double c) {
        return Math.max(-c, Math.min(c, v));
    }

    /**
     * DL4J GravesLSTM as LSTMHelpers computes it: ifog = x W + h RW[:, :4H] + b with column blocks
     * [a (tanh), f, o, g (sigmoid)]; f += c(t-1) wFF, g += c(t-1) wGG, c = f c(t-1) + g a, o += c wOO,
     * h = o tanh(c); wFF, wOO, wGG are RW's last three columns.
     */
    @Test
    void dl4jGravesLstmWithPeepholes() {
        int cols = 4 * H + 3;
        double[] w = rand(I * 4 * H), rw = rand(H * cols), b = rand(4 * H), x = rand(T * B * I);
        double[] want = new double[T * B * H];
        for (int bi = 0; bi < B; bi++) {
            double[] h = new double[H], c = new double[H];
            for (int step = 0; step < T; step++) {
                double[] z = b.clone();
                for (int j = 0; j < 4 * H; j++) {
                    for (int q = 0; q < I; q++) z[j] += x[(step * B + bi) * I + q] * w[q * 4 * H + j];
                    for (int m = 0; m < H; m++) z[j] += h[m] * rw[m * cols + j];
                }
                double[] nh = new double[H];
                for (int j = 0; j < H; j++) {
                    double wff = rw[j * cols + 4 * H], woo = rw[j * cols + 4 * H + 1], wgg = rw[j * cols + 4 * H + 2];
                    double a = Math.tanh(z[j]);
                    double fg = sigmoid(z[H + j] + c[j] * wff);
                    double gg = sigmoid(z[3 * H + j] + c[j] * wgg);
                    double cNew = fg * c[j] + gg * a;
                    double og = sigmoid(z[2 * H + j] + cNew * woo);
                    c[j] = cNew;
                    nh[j] = og * Math.tanh(cNew);
                    want[(step * B + bi) * H + j] = nh[j];
                }
                h = nh;
            }
        }
        Map<String, Tensor> f = new LinkedHashMap<>();
        f.put("W", t(w, I, 4 * H));
        f.put("RW", t(rw, H, cols));
        f.put("b", t(b, 1, 4 * H));
        assertClose(want, ours(f, WeightFormat.DL4J, VariantOptions.DEFAULT, x)[0], "dl4j output");
    }

    /**
     * PyTorch nn.LSTM with proj_size, from its documentation: gates = W_ih x + b_ih + W_hh h + b_hh in blocks
     * i, f, g, o; c = f c + i g; h = W_hr (o tanh(c)).
     */
    @Test
    void pytorchWithProjection() {
        int p = 2;
        double[] wih = rand(4 * H * I), whh = rand(4 * H * p), bih = rand(4 * H), bhh = rand(4 * H), whr = rand(p * H);
        double[] x = rand(T * B * I);
        double[] want = new double[T * B * p];
        for (int bi = 0; bi < B; bi++) {
            double[] h = new double[p], c = new double[H];
            for (int step = 0; step < T; step++) {
                double[] z = new double[4 * H];
                for (int row = 0; row < 4 * H; row++) {
                    z[row] = bih[row] + bhh[row];
                    for (int q = 0; q < I; q++) z[row] += wih[row * I + q] * x[(step * B + bi) * I + q];
                    for (int m = 0; m < p; m++) z[row] += whh[row * p + m] * h[m];
                }
                double[] u = new double[H];
                for (int j = 0; j < H; j++) {
                    c[j] = sigmoid(z[H + j]) * c[j] + sigmoid(z[j]) * Math.tanh(z[2 * H + j]);
                    u[j] = sigmoid(z[3 * H + j]) * Math.tanh(c[j]);
                }
                for (int m = 0; m < p; m++) {
                    h[m] = 0;
                    for (int j = 0; j < H; j++) h[m] += whr[m * H + j] * u[j];
                    want[(step * B + bi) * p + m] = h[m];
                }
            }
        }
        Map<String, Tensor> f = new LinkedHashMap<>();
        f.put("lstm.weight_ih_l0", t(wih, 4 * H, I));
        f.put("lstm.weight_hh_l0", t(whh, 4 * H, p));
        f.put("lstm.bias_ih_l0", t(bih, 4 * H));
        f.put("lstm.bias_hh_l0", t(bhh, 4 * H));
        f.put("lstm.weight_hr_l0", t(whr, p, H));
        assertClose(want, ours(f, WeightFormat.PYTORCH, VariantOptions.DEFAULT, x)[0], "pytorch output");
    }
}
