package dev.lstm4j.data;

/**
 * A token stream cut for truncated BPTT as the PTB reader of Zaremba et al. does it: the stream is laid out as
 * {@code batch} parallel rows of {@code n / batch} tokens (row b continues where row b-1 ended, so state carried
 * from batch i to batch i+1 of the same row is the true history), and batch i holds steps [i*T, i*T+T) of every row
 * as input and the next token of each as target.
 */
public final class TokenBatches {
    private final int[] data;
    private final int batch;
    private final int steps;
    private final int rowLength;

    public TokenBatches(int[] data, int batch, int steps) {
        if (batch < 1 || steps < 1) {
            throw new IllegalArgumentException("batch and steps: expected >= 1, got batch " + batch + ", steps " + steps);
        }
        this.data = data;
        this.batch = batch;
        this.steps = steps;
        this.rowLength = data.length / batch;
        if (rowLength < steps + 1) {
            throw new IllegalArgumentException("data: expected at least " + (long) batch * (steps + 1) + " tokens for batch "
                    + batch + " x steps " + steps + ", got " + data.length);
        }
    }

    public int batch() { return batch; }
    public int steps() { return steps; }

    /** Batches per epoch. */
    public int size() {
        return (rowLength - 1) / steps;
    }

    /** Tokens predicted per epoch. */
    public long tokens() {
        return (long) size() * steps * batch;
    }

    /** Input ids of batch i, time-major: {@code x[t * batch + b]}. */
    public int[] inputs(int i) {
        return slice(i, 0);
    }

    /** Target ids of batch i (the inputs shifted by one step), time-major. */
    public int[] targets(int i) {
        return slice(i, 1);
    }

    private int[] slice(int i, int shift) {
        if (i < 0 || i >= size()) throw new IndexOutOfBoundsException("batch " + i + ": expected 0.." + (size() - 1));
        int[] out = new int[steps * batch];
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) out[t * batch + b] = data[b * rowLength + i * steps + t + shift];
        }
        return out;
    }
}
