package dev.lstm4j.nn;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

/** A lookup table [vocab, dim]: row i is the vector of token i. Initialised uniform in +-{@code initRange}. */
public final class Embedding {
    private final int vocabSize;
    private final int dim;
    private final Param weight;

    public Embedding(String prefix, int vocabSize, int dim, double initRange, DType dtype, Arena arena,
                     SplittableRandom random) {
        if (vocabSize < 1 || dim < 1) {
            throw new IllegalArgumentException(prefix + ": expected vocabulary and dimension >= 1, got " + vocabSize
                    + " x " + dim);
        }
        this.vocabSize = vocabSize;
        this.dim = dim;
        Tensor w = Tensor.zeros(arena, dtype, vocabSize, dim);
        for (long i = 0; i < w.elementCount(); i++) w.setFlat(i, random.nextDouble(-initRange, initRange));
        weight = new Param(prefix + ".weight", w, Tensor.zeros(arena, dtype, w.shape()));
    }

    public int vocabSize() { return vocabSize; }
    public int dim() { return dim; }
    public Param weight() { return weight; }
    public List<Param> params() { return List.of(weight); }

    /** ids: N token ids in 0..vocab-1 -> [N, dim]. */
    public Tensor forward(int[] ids, Arena arena) {
        Tensor y = Tensor.zeros(arena, weight.value().dtype(), ids.length, dim);
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("ids[" + r + "]: expected a token id in 0.." + (vocabSize - 1)
                        + ", got " + id);
            }
            Tensors.copyRow(weight.value(), id, y, r, dim);
        }
        return y;
    }

    /** Accumulates dW[ids[r]] += dy[r]; dy: [N, dim]. */
    public void backward(int[] ids, Tensor dy) {
        if (dy.shape().rank() != 2 || dy.shape().dim(0) != ids.length || dy.shape().dim(1) != dim) {
            throw new IllegalArgumentException("dy: expected shape [" + ids.length + ", " + dim + "], got " + dy.shape());
        }
        for (int r = 0; r < ids.length; r++) Tensors.addRow(dy, r, weight.grad(), ids[r], dim);
    }
}
