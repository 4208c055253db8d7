package dev.lstm4j.nn;

import dev.lstm4j.tensor.Tensor;

/**
 * One batch for a {@link Model}, time-major: token ids {@code tokens[t * batch + b]} (T*B entries) or dense features
 * [T, B, F]; optional per-sequence lengths in 1..T (null: all T).
 */
public record ModelInput(int steps, int batch, int[] tokens, Tensor dense, int[] lengths) {
    public ModelInput {
        if (steps < 1 || batch < 1) {
            throw new IllegalArgumentException("batch: expected T >= 1 and B >= 1, got T=" + steps + ", B=" + batch);
        }
        if ((tokens == null) == (dense == null)) {
            throw new IllegalArgumentException("input: expected either token ids or dense features, got "
                    + (tokens == null ? "neither" : "both"));
        }
        if (tokens != null && tokens.length != steps * batch) {
            throw new IllegalArgumentException("tokens: expected T*B = " + steps * batch + " ids, got " + tokens.length);
        }
        if (dense != null && (dense.shape().rank() != 3 || dense.shape().dim(0) != steps || dense.shape().dim(1) != batch)) {
            throw new IllegalArgumentException("dense: expected shape [" + steps + ", " + batch + ", F], got " + dense.shape());
        }
        if (lengths != null && lengths.length != batch) {
            throw new IllegalArgumentException("lengths: expected " + batch + " entries, got " + lengths.length);
        }
    }

    public static ModelInput tokens(int[] ids, int steps, int batch) {
        return new ModelInput(steps, batch, ids, null, null);
    }

    /** x: [T, B, F]. */
    public static ModelInput dense(Tensor x) {
        return new ModelInput(x.shape().intDim(0), x.shape().intDim(1), null, x, null);
    }

    public ModelInput withLengths(int[] lengths) {
        return new ModelInput(steps, batch, tokens, dense, lengths);
    }
}
