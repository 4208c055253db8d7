package dev.lstm4j.nn;

import dev.lstm4j.tensor.Tensor;
import java.util.Objects;

/** A trainable tensor and its gradient (same shape and dtype), under a stable name such as {@code head.weight}. */
public record Param(String name, Tensor value, Tensor grad) {
    public Param {
        Objects.requireNonNull(name, "name");
        if (!value.shape().equals(grad.shape()) || value.dtype() != grad.dtype()) {
            throw new IllegalArgumentException("grad of " + name + ": expected " + value.shape() + " " + value.dtype()
                    + ", got " + grad.shape() + " " + grad.dtype());
        }
    }
}
