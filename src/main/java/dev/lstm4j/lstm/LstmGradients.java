package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;

/**
 * What a backward call returns: the gradient for the input (the input's shape), for h0 and c0 (their shapes, also
 * when they were zero), and for every parameter under its canonical name. Closing it frees them, unless they live
 * in an arena the caller passed in ({@link Lstm#backward(LstmOutput, Tensor, Tensor, Tensor, java.lang.foreign.Arena)}),
 * which frees them when it closes.
 */
public final class LstmGradients implements AutoCloseable {
    private final ResultArena results;
    private final Tensor input;
    private final Tensor h0;
    private final Tensor c0;
    private final LstmParams params;

    /** For backends: {@code results} holds the three tensors; {@code params} is closed with this object. */
    public LstmGradients(ResultArena results, Tensor input, Tensor h0, Tensor c0, LstmParams params) {
        this.results = results;
        this.input = input;
        this.h0 = h0;
        this.c0 = c0;
        this.params = params;
    }

    public Tensor input() { return input; }
    public Tensor h0() { return h0; }
    public Tensor c0() { return c0; }
    /** Parameter gradients under the canonical names. */
    public LstmParams params() { return params; }

    @Override
    public synchronized void close() {
        params.close();
        results.close();
    }
}
