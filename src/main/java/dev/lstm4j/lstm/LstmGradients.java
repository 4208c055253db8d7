package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * What a backward call returns: the gradient for the input (the input's shape), for h0 and c0 (their shapes, also
 * when they were zero), and for every parameter under its canonical name. Owns its memory.
 */
public final class LstmGradients implements AutoCloseable {
    private final Arena arena;
    private final Tensor input;
    private final Tensor h0;
    private final Tensor c0;
    private final LstmParams params;

    /** For backends: {@code arena} owns the three tensors; {@code params} is closed with this object. */
    public LstmGradients(Arena arena, Tensor input, Tensor h0, Tensor c0, LstmParams params) {
        this.arena = arena;
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
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
