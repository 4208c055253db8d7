package dev.lstm4j.testing;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Small helpers shared by the numerical tests. */
public final class Fixtures {
    private Fixtures() {}

    public static Tensor random(Arena arena, DType dtype, Shape shape, SplittableRandom r, double scale) {
        Tensor t = Tensor.zeros(arena, dtype, shape);
        for (long k = 0; k < t.elementCount(); k++) {
            t.setFlat(k, r.nextDouble(-scale, scale));
        }
        return t;
    }

    public static Tensor random(Arena arena, DType dtype, SplittableRandom r, long... dims) {
        return random(arena, dtype, Shape.of(dims), r, 1.0);
    }

    /** A float64 reference layer with PyTorch-style uniform weights scaled up so gates leave their linear region. */
    public static Lstm reference(LstmSpec spec, DType dtype, long seed) {
        return Lstm.builder(spec).dtype(dtype).backend("reference").seed(seed).build();
    }

    public static double maxAbsDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        if (x.length != y.length) {
            throw new AssertionError("sizes differ: " + a.shape() + " vs " + b.shape());
        }
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /**
     * Where actual is furthest from expected: the index of the largest |expected - actual|, or of the first pair whose
     * difference is NaN (NaN on either side), so that a comparison at that index fails whatever the others are; -1
     * for empty arrays.
     */
    public static int worstIndex(double[] expected, double[] actual) {
        double worst = -1;
        int at = -1;
        for (int k = 0; k < expected.length; k++) {
            double d = Math.abs(expected[k] - actual[k]);
            if (Double.isNaN(d)) {
                return k;
            }
            if (d > worst) {
                worst = d;
                at = k;
            }
        }
        return at;
    }

    public static double maxAbs(Tensor a) {
        double m = 0;
        for (double v : a.toDoubleArray()) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** sum(a ⊙ b). */
    public static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }
}
