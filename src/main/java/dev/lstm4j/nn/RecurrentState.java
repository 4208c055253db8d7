package dev.lstm4j.nn;

import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * The LSTM state carried from one batch to the next in truncated BPTT: h [D*L, B, P], c [D*L, B, H]. A copy that
 * owns its memory, detached from the graph of the batch that produced it (no gradient flows back through it).
 */
public final class RecurrentState implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Tensor h;
    private final Tensor c;

    public RecurrentState(Tensor h, Tensor c) {
        this.h = h.copy(arena);
        this.c = c.copy(arena);
    }

    public Tensor h() { return h; }
    public Tensor c() { return c; }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
