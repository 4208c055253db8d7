package dev.lstm4j.nn;

import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * Inverted dropout: in training each element is kept with probability 1-p and scaled by 1/(1-p), so inference is
 * the identity. The mask is drawn from the caller's generator, which makes a seeded run reproducible.
 */
public final class Dropout {
    private final double p;

    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout: expected a probability in [0, 1), got " + p);
        }
        this.p = p;
    }

    public double p() { return p; }

    /** The scale factors (0 or 1/(1-p)) for a tensor of {@code x}'s shape, or null when p is 0. */
    public Tensor mask(Tensor x, SplittableRandom random, Arena arena) {
        if (p == 0) return null;
        Tensor m = Tensor.zeros(arena, x.dtype(), x.shape());
        double scale = 1.0 / (1.0 - p);
        for (long i = 0; i < m.elementCount(); i++) m.setFlat(i, random.nextDouble() < p ? 0.0 : scale);
        return m;
    }

    /** x * mask elementwise, in place; returns x. A null mask is the identity. Used forward and backward. */
    public static Tensor apply(Tensor x, Tensor mask) {
        if (mask == null) return x;
        if (!mask.shape().equals(x.shape())) {
            throw new IllegalArgumentException("mask: expected shape " + x.shape() + ", got " + mask.shape());
        }
        for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, x.getFlat(i) * mask.getFlat(i));
        return x;
    }
}
