package dev.lstm4j.nn;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

/**
 * y = x W^T + b, as PyTorch's {@code nn.Linear}: weight [out, in], bias [out], initialised uniform in
 * +-1/sqrt(in). Gradients accumulate into the parameters' grad tensors.
 */
public final class Linear {
    private final int inFeatures;
    private final int outFeatures;
    private final Param weight;
    private final Param bias;

    /** Parameters named {@code prefix.weight} and {@code prefix.bias}, allocated in {@code arena}. */
    public Linear(String prefix, int inFeatures, int outFeatures, DType dtype, Arena arena, SplittableRandom random) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException(prefix + ": expected in and out features >= 1, got " + inFeatures
                    + " -> " + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        Tensor w = Tensor.zeros(arena, dtype, outFeatures, inFeatures);
        Tensor b = Tensor.zeros(arena, dtype, outFeatures);
        double bound = 1.0 / Math.sqrt(inFeatures);
        for (long i = 0; i < w.elementCount(); i++) w.setFlat(i, random.nextDouble(-bound, bound));
        for (long i = 0; i < b.elementCount(); i++) b.setFlat(i, random.nextDouble(-bound, bound));
        weight = new Param(prefix + ".weight", w, Tensor.zeros(arena, dtype, w.shape()));
        bias = new Param(prefix + ".bias", b, Tensor.zeros(arena, dtype, b.shape()));
    }

    public int inFeatures() { return inFeatures; }
    public int outFeatures() { return outFeatures; }
    public Param weight() { return weight; }
    public Param bias() { return bias; }
    public List<Param> params() { return List.of(weight, bias); }

    /** x: [N, in] -> y: [N, out], allocated in {@code arena}. */
    public Tensor forward(Tensor x, Arena arena) {
        checkInput(x);
        int n = x.shape().intDim(0);
        Tensor y = Tensor.zeros(arena, x.dtype(), n, outFeatures);
        for (int r = 0; r < n; r++) Tensors.copyRow(bias.value().reshape(Shape.of(1, outFeatures)), 0, y, r, outFeatures);
        MatMul.multiply(x, false, weight.value(), true, y, true);
        return y;
    }

    /** Accumulates dW += dy^T x and db += colsum(dy); returns dx = dy W: [N, in]. */
    public Tensor backward(Tensor x, Tensor dy, Arena arena) {
        return backward(x, dy, arena, true);
    }

    /** As {@link #backward(Tensor, Tensor, Arena)}; with {@code inputGrad} false (a first layer) dx is skipped, null returned. */
    public Tensor backward(Tensor x, Tensor dy, Arena arena, boolean inputGrad) {
        checkInput(x);
        int n = x.shape().intDim(0);
        if (!dy.shape().equals(Shape.of(n, outFeatures))) {
            throw new IllegalArgumentException("dy: expected shape [" + n + ", " + outFeatures + "], got " + dy.shape());
        }
        MatMul.multiply(dy, true, x, false, weight.grad(), true);
        Tensors.addColumnSums(dy, bias.grad());
        if (!inputGrad) return null;
        Tensor dx = Tensor.zeros(arena, x.dtype(), n, inFeatures);
        MatMul.multiply(dy, false, weight.value(), false, dx, false);
        return dx;
    }

    private void checkInput(Tensor x) {
        if (x.shape().rank() != 2 || x.shape().dim(1) != inFeatures) {
            throw new IllegalArgumentException("x: expected shape [N, " + inFeatures + "], got " + x.shape());
        }
        if (x.dtype() != weight.value().dtype()) {
            throw new IllegalArgumentException("x: expected dtype " + weight.value().dtype() + ", got " + x.dtype());
        }
    }
}
