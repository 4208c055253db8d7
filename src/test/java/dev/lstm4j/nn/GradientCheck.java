package dev.lstm4j.nn;

import static org.junit.jupiter.api.Assertions.fail;

import dev.lstm4j.tensor.Tensor;
import java.util.function.DoubleSupplier;

/** Central finite differences in float64 against an analytic gradient. */
final class GradientCheck {
    /**
     * Step 1e-6: the truncation error of a central difference is O(eps^2) ~ 1e-12 and the rounding error
     * O(1e-16 / eps) ~ 1e-10, both far inside the tolerance below.
     */
    static final double EPS = 1e-6;
    /**
     * |analytic - numeric| <= 1e-6 * max(1, |analytic|, |numeric|): about four orders above the finite-difference
     * error of float64, and far below the size of any real mistake (a wrong sign, a missed term, a factor).
     */
    static final double TOL = 1e-6;

    private GradientCheck() {}

    /** Perturbs every element of {@code param} and compares d loss / d param with {@code analytic}. */
    static void check(String what, Tensor param, Tensor analytic, DoubleSupplier loss) {
        for (long i = 0; i < param.elementCount(); i++) {
            double orig = param.getFlat(i);
            param.setFlat(i, orig + EPS);
            double up = loss.getAsDouble();
            param.setFlat(i, orig - EPS);
            double down = loss.getAsDouble();
            param.setFlat(i, orig);
            double numeric = (up - down) / (2 * EPS);
            double a = analytic.getFlat(i);
            double scale = Math.max(1.0, Math.max(Math.abs(a), Math.abs(numeric)));
            if (Math.abs(a - numeric) > TOL * scale) {
                fail(what + "[" + i + "]: analytic " + a + " vs finite difference " + numeric);
            }
        }
    }

    /** sum(y * g): the scalar whose gradient for y is g. */
    static double dot(Tensor y, Tensor g) {
        double s = 0;
        for (long i = 0; i < y.elementCount(); i++) s += y.getFlat(i) * g.getFlat(i);
        return s;
    }

    static Tensor random(java.lang.foreign.Arena arena, java.util.SplittableRandom r, long... dims) {
        Tensor t = Tensor.zeros(arena, dev.lstm4j.tensor.DType.FLOAT64, dims);
        for (long i = 0; i < t.elementCount(); i++) t.setFlat(i, r.nextDouble(-1, 1));
        return t;
    }
}
