package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;
import java.util.SplittableRandom;

/** Fills LSTM parameters. Each initializer is deterministic for a given generator. */
@FunctionalInterface
public interface Initializer {

    void initialize(LstmParams params, SplittableRandom random);

    /** PyTorch's default: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)]. */
    static Initializer pytorchUniform() {
        return (params, random) -> {
            double k = 1.0 / Math.sqrt(params.spec().hiddenSize());
            for (Tensor t : params.asMap().values()) {
                for (long i = 0; i < t.elementCount(); i++) {
                    t.setFlat(i, random.nextDouble(-k, k));
                }
            }
        };
    }

    /**
     * Keras' default: Glorot-uniform input weights, orthogonal recurrent weights, zero biases and peepholes, and
     * (when {@code unitForgetBias}) a forget-gate bias of 1 in {@code bias_ih}. Projections are Glorot-uniform.
     */
    static Initializer keras(boolean unitForgetBias) {
        return (params, random) -> {
            LstmSpec spec = params.spec();
            int h = spec.hiddenSize();
            for (int l = 0; l < spec.numLayers(); l++) {
                for (int d = 0; d < spec.numDirections(); d++) {
                    glorotUniform(params.weightIh(l, d), random);
                    orthogonalColumns(params.weightHh(l, d), random);
                    if (spec.projSize() > 0) {
                        glorotUniform(params.weightHr(l, d), random);
                    }
                    if (unitForgetBias) {
                        Tensor b = params.biasIh(l, d);
                        for (int j = h; j < 2 * h; j++) {
                            b.setFlat(j, 1.0);
                        }
                    }
                }
            }
        };
    }

    /** Overwrites the forget-gate slice of {@code bias_ih} with {@code value} and zeroes it in {@code bias_hh}. */
    static Initializer withForgetBias(Initializer base, double value) {
        return (params, random) -> {
            base.initialize(params, random);
            LstmSpec spec = params.spec();
            int h = spec.hiddenSize();
            for (int l = 0; l < spec.numLayers(); l++) {
                for (int d = 0; d < spec.numDirections(); d++) {
                    for (int j = h; j < 2 * h; j++) {
                        params.biasIh(l, d).setFlat(j, value);
                        params.biasHh(l, d).setFlat(j, 0.0);
                    }
                }
            }
        };
    }

    private static void glorotUniform(Tensor w, SplittableRandom random) { // [out, in]
        long fanOut = w.shape().dim(0);
        long fanIn = w.shape().dim(1);
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        for (long i = 0; i < w.elementCount(); i++) {
            w.setFlat(i, random.nextDouble(-limit, limit));
        }
    }

    /** Orthonormal columns when rows >= cols (the recurrent kernel), orthonormal rows otherwise, as Keras' Orthogonal. */
    private static void orthogonalColumns(Tensor w, SplittableRandom random) { // [rows, cols]
        int rows = w.shape().intDim(0);
        int cols = w.shape().intDim(1);
        boolean byColumn = rows >= cols;
        double[][] v = orthonormalVectors(byColumn ? cols : rows, byColumn ? rows : cols, random);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w.setFlat((long) r * cols + c, byColumn ? v[c][r] : v[r][c]);
            }
        }
    }

    /** {@code count <= length} orthonormal vectors: Gram-Schmidt on Gaussian draws. */
    private static double[][] orthonormalVectors(int count, int length, SplittableRandom random) {
        double[][] v = new double[count][length];
        for (int a = 0; a < count; a++) {
            for (int i = 0; i < length; i++) v[a][i] = gaussian(random);
            for (int b = 0; b < a; b++) {
                double dot = 0;
                for (int i = 0; i < length; i++) dot += v[a][i] * v[b][i];
                for (int i = 0; i < length; i++) v[a][i] -= dot * v[b][i];
            }
            double norm = 0;
            for (int i = 0; i < length; i++) norm += v[a][i] * v[a][i];
            norm = Math.sqrt(norm);
            for (int i = 0; i < length; i++) v[a][i] /= norm;
        }
        return v;
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
