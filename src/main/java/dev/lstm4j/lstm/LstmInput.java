package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;
import java.util.Objects;

/**
 * One call's inputs: the sequence batch, optional per-sequence lengths, optional initial state, and the mode.
 * Immutable; the {@code with*} methods return a new value.
 *
 * <ul>
 *   <li>input: [T, B, I], or [B, T, I] when the spec is batch-first</li>
 *   <li>lengths: B entries in 1..T; null means every sequence has length T</li>
 *   <li>h0: [D*L, B, P or H], c0: [D*L, B, H]; null means zeros</li>
 * </ul>
 */
public final class LstmInput {
    private final Tensor input;
    private final int[] lengths;
    private final Tensor h0;
    private final Tensor c0;
    private final boolean training;
    private final long dropoutSeed;

    private LstmInput(Tensor input, int[] lengths, Tensor h0, Tensor c0, boolean training, long dropoutSeed) {
        this.input = Objects.requireNonNull(input, "input");
        this.lengths = lengths;
        this.h0 = h0;
        this.c0 = c0;
        this.training = training;
        this.dropoutSeed = dropoutSeed;
    }

    public static LstmInput of(Tensor input) {
        return new LstmInput(input, null, null, null, false, 0L);
    }

    public LstmInput withLengths(int... lengths) {
        return new LstmInput(input, lengths == null ? null : lengths.clone(), h0, c0, training, dropoutSeed);
    }

    public LstmInput withInitialState(Tensor h0, Tensor c0) {
        return new LstmInput(input, lengths, h0, c0, training, dropoutSeed);
    }

    /** Training mode keeps what backward needs and applies inter-layer dropout. */
    public LstmInput training(boolean training) {
        return new LstmInput(input, lengths, h0, c0, training, dropoutSeed);
    }

    public LstmInput withDropoutSeed(long seed) {
        return new LstmInput(input, lengths, h0, c0, training, seed);
    }

    public Tensor input() { return input; }
    /** A copy of the lengths, or null when every sequence is full length. */
    public int[] lengths() { return lengths == null ? null : lengths.clone(); }
    public boolean hasLengths() { return lengths != null; }
    public Tensor h0() { return h0; }
    public Tensor c0() { return c0; }
    public boolean isTraining() { return training; }
    public long dropoutSeed() { return dropoutSeed; }

    /** T, read from the input according to the layout. */
    public int seqLength(LstmSpec spec) {
        return input.shape().intDim(spec.batchFirst() ? 1 : 0);
    }

    public int batchSize(LstmSpec spec) {
        return input.shape().intDim(spec.batchFirst() ? 0 : 1);
    }

    /** The lengths, with null expanded to T for every entry. */
    public int[] effectiveLengths(LstmSpec spec) {
        if (lengths != null) {
            return lengths.clone();
        }
        int[] full = new int[batchSize(spec)];
        java.util.Arrays.fill(full, seqLength(spec));
        return full;
    }
}
