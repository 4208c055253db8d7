package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Tensor;

/**
 * A backend bound to one spec and dtype, created by its {@link LstmBackendProvider}. It may keep plans and buffers
 * between calls, so it is closed with the layer. Through {@link Lstm}, inputs reach it already validated by
 * {@link LstmShapes}; the built-in float32 backends ({@code cpu}, the kernels, cuDNN) check them again, as tests and
 * tools call them directly.
 */
public interface LstmBackend extends AutoCloseable {

    BackendKind kind();

    /** Allocates the results in {@code results}; its worker threads write them through its writable views. */
    LstmOutput forward(LstmParams params, LstmInput input, ResultArena results);

    /** Results in an arena of the call's own, freed when the output closes. */
    default LstmOutput forward(LstmParams params, LstmInput input) {
        return forward(params, input, ResultArena.own());
    }

    /**
     * Gradients of a scalar loss given its gradients for output, h_n and c_n (any may be null: zero).
     * {@code forward} must come from this backend in training mode. Allocates the gradients, parameter gradients
     * included, in {@code results}; its worker threads write them through its writable views.
     */
    LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn,
                           ResultArena results);

    /** Gradients in an arena of the call's own, freed when they close. */
    default LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn,
                                   Tensor gradCn) {
        return backward(params, forward, gradOutput, gradHn, gradCn, ResultArena.own());
    }

    @Override
    default void close() {}
}
