package dev.lstm4j.train;

import dev.lstm4j.nn.Param;
import dev.lstm4j.nn.Tensors;
import java.util.List;

/** Global gradient-norm clipping, as PyTorch's {@code clip_grad_norm_}. */
public final class GradientClipping {
    private GradientClipping() {}

    /** The L2 norm over every gradient together. */
    public static double globalNorm(List<Param> params) {
        double s = 0;
        for (Param p : params) s += Tensors.sumOfSquares(p.grad());
        return Math.sqrt(s);
    }

    /** Scales every gradient by maxNorm / norm when the global norm exceeds maxNorm; returns the norm before. */
    public static double clip(List<Param> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max norm: expected > 0, got " + maxNorm);
        double norm = globalNorm(params);
        if (norm > maxNorm) {
            double f = maxNorm / (norm + 1e-6);
            for (Param p : params) Tensors.scale(p.grad(), f);
        }
        return norm;
    }
}
