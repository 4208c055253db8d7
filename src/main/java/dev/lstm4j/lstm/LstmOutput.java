package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;

/**
 * What a forward call returns: output [T, B, D*P] (batch-first: [B, T, D*P]), h_n [D*L, B, P], c_n [D*L, B, H],
 * and, in training mode, whatever the backend saved for backward. Close it when done (after the backward call that
 * uses it): that frees the three tensors too unless they live in an arena the caller passed in
 * ({@link Lstm#forward(LstmInput, java.lang.foreign.Arena)}), which frees them when it closes.
 */
public final class LstmOutput implements AutoCloseable {
    private final ResultArena results;
    private final Tensor output;
    private final Tensor hN;
    private final Tensor cN;
    private final LstmInput input;
    private final AutoCloseable saved; // backend-specific, null in inference mode
    private boolean closed;

    /** For backends: {@code results} must hold the three tensors; {@code saved} is closed with this output. */
    public LstmOutput(ResultArena results, Tensor output, Tensor hN, Tensor cN, LstmInput input,
            AutoCloseable saved) {
        this.results = results;
        this.output = output;
        this.hN = hN;
        this.cN = cN;
        this.input = input;
        this.saved = saved;
    }

    public Tensor output() { return output; }
    public Tensor hN() { return hN; }
    public Tensor cN() { return cN; }
    public LstmInput input() { return input; }

    public boolean isTrainingOutput() {
        return saved != null;
    }

    /** For the backend that produced this output: what it saved for backward, while this output is open. */
    public synchronized <T> T saved(Class<T> type) {
        if (closed) {
            throw new IllegalStateException("forward output: expected an open output, got one already closed "
                    + "(backward needs it open: close it after the backward call)");
        }
        if (saved == null) {
            throw new IllegalStateException("forward output: backward needs a forward call in training mode "
                    + "(LstmInput.training(true)), got an inference-mode output");
        }
        if (!type.isInstance(saved)) {
            throw new IllegalArgumentException("forward output: expected one made by the backend that saves "
                    + type.getSimpleName() + ", got one holding " + saved.getClass().getSimpleName());
        }
        return type.cast(saved);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (saved != null) {
                saved.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException("closing the saved forward state failed: " + e.getMessage(), e);
        } finally {
            results.close();
        }
    }
}
