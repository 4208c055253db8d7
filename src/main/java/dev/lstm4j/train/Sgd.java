package dev.lstm4j.train;

import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as PyTorch's {@code torch.optim.SGD}: g = grad + weightDecay * w; with momentum
 * v = momentum * v + g (v = g on the first step) and w -= lr * v; without, w -= lr * g.
 */
public final class Sgd implements Optimizer {
    private final double momentum;
    private final double weightDecay;
    private final OptimizerState state = new OptimizerState(List.of("momentum"));
    private long steps;

    public Sgd(double momentum, double weightDecay) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum: expected 0 <= m < 1, got " + momentum);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay: expected >= 0, got " + weightDecay);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    @Override
    public void step(List<Param> params, double lr) {
        for (Param p : params) {
            MemorySegment w = p.value().segment();
            MemorySegment g = p.grad().segment();
            MemorySegment v = momentum > 0 ? state.buffer(p, "momentum").segment() : null;
            long n = p.value().elementCount();
            boolean first = steps == 0;
            if (p.value().dtype() == DType.FLOAT32) {
                // bulk copies to heap arrays, so the update loop is plain indexed array code the JIT vectorises
                ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
                float[] wa = w.toArray(F), ga = g.toArray(F), va = v != null ? v.toArray(F) : null;
                float lrf = (float) lr, wd = (float) weightDecay, mu = (float) momentum;
                for (int i = 0; i < wa.length; i++) {
                    float gi = ga[i] + wd * wa[i];
                    if (va != null) {
                        gi = first ? gi : mu * va[i] + gi;
                        va[i] = gi;
                    }
                    wa[i] = wa[i] - lrf * gi;
                }
                MemorySegment.copy(wa, 0, w, F, 0, wa.length);
                if (va != null) MemorySegment.copy(va, 0, v, F, 0, va.length);
            } else {
                ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
                for (long i = 0; i < n; i++) {
                    double wi = w.getAtIndex(D, i);
                    double gi = g.getAtIndex(D, i) + weightDecay * wi;
                    if (v != null) {
                        gi = first ? gi : momentum * v.getAtIndex(D, i) + gi;
                        v.setAtIndex(D, i, gi);
                    }
                    w.setAtIndex(D, i, wi - lr * gi);
                }
            }
        }
        steps++;
    }

    @Override public long steps() { return steps; }
    @Override public Map<String, Tensor> state() { return state.asMap(); }

    @Override
    public void load(Map<String, Tensor> saved, long steps, List<Param> params) {
        if (momentum > 0 && steps > 0) state.load(saved, params);
        this.steps = steps;
    }

    @Override
    public Map<String, String> toMetadata() {
        return Map.of("optim.type", "sgd", "optim.momentum", Double.toString(momentum),
                "optim.weight_decay", Double.toString(weightDecay));
    }

    @Override
    public String describe() {
        return "SGD(momentum=" + momentum + ", weight_decay=" + weightDecay + ")";
    }

    @Override
    public void close() {
        state.close();
    }
}
