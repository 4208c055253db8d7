package dev.lstm4j.train;

import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients. State (momentum, moments) is kept per parameter name as tensors of the
 * parameter's dtype, so that a checkpoint can save it and a resumed run continues with the identical next step.
 */
public interface Optimizer extends AutoCloseable {
    /** One update of every parameter with learning rate {@code lr}. */
    void step(List<Param> params, double lr);

    /** Updates done so far. */
    long steps();

    /** The state under stable names ({@code <param>.m}, ...), created on the first step; empty before it. */
    Map<String, Tensor> state();

    /** Restores what {@link #state()} and {@link #steps()} returned for the same parameters. */
    void load(Map<String, Tensor> state, long steps, List<Param> params);

    /** The kind and every hyper-parameter as strings, for a checkpoint ({@link Optimizers#fromMetadata} reads them). */
    Map<String, String> toMetadata();

    /** A one-line description with every hyper-parameter. */
    String describe();

    @Override
    void close();
}
