package dev.lstm4j.cli;

import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;

/**
 * How far two backends may differ on a tensor, from a rounding-error model rather than a guess.
 *
 * <p>An element of the output is the end of a chain of K = T * L * (max(I, D*H_out) + H_out + 8) rounded
 * operations: at each step of each layer a dot product over the layer's input and recurrent state, then about eight
 * pointwise operations. The classic worst-case bound for such a chain is K * eps relative to the magnitudes
 * involved, eps being the unit roundoff of the less precise of the two runs (2^-24 for float32, 2^-53 for float64).
 * Gradients run the chain back again and weight gradients sum over the batch, so they get K_grad = 2 * B * K.
 * An element passes when |a - b| <= K * eps * (1 + |b|), b being the baseline.
 */
record Tolerance(double forward, double gradient, double eps) {

    static double unitRoundoff(DType d) {
        return d == DType.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    static long chainLength(LstmSpec spec, int seqLength) {
        long width = Math.max(spec.inputSize(), (long) spec.numDirections() * spec.outputSize());
        return (long) seqLength * spec.numLayers() * (width + spec.outputSize() + 8);
    }

    static Tolerance of(LstmSpec spec, int seqLength, int batch, DType a, DType b) {
        double eps = Math.max(unitRoundoff(a), unitRoundoff(b));
        long k = chainLength(spec, seqLength);
        return new Tolerance(k * eps, 2.0 * batch * k * eps, eps);
    }

    /** An explicit tolerance for every tensor (--tolerance). */
    static Tolerance fixed(double tol) {
        return new Tolerance(tol, tol, Double.NaN);
    }

    double forTensor(String name) {
        return name.startsWith(BackendRun.GRAD) ? gradient : forward;
    }

    static final String RULE = "an element passes when |a - b| <= tol * (1 + |b|), b the baseline; "
            + "tol = K * eps for output, h_n, c_n and 2 * B * K * eps for gradients, "
            + "K = T * layers * (max(I, D*H_out) + H_out + 8) the rounded operations on an element's longest chain, "
            + "eps the unit roundoff of the less precise run (2^-24 float32, 2^-53 float64)";
}
