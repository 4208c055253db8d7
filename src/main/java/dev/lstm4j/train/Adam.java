package dev.lstm4j.train;

import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW as PyTorch defines them. m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). Weight decay is L2 (added to g) for Adam and decoupled
 * (w -= lr * wd * w before the update) for AdamW. Moments are kept in the parameter's dtype.
 */
public final class Adam implements Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final OptimizerState state = new OptimizerState(List.of("m", "v"));
    private long steps;

    public Adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1: expected 0 <= b1 < 1, got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2: expected 0 <= b2 < 1, got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("eps: expected > 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay: expected >= 0, got " + weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static Adam defaults() {
        return new Adam(0.9, 0.999, 1e-8, 0.0, false);
    }

    @Override
    public void step(List<Param> params, double lr) {
        long t = steps + 1;
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        double shrink = decoupled ? 1 - lr * weightDecay : 1;
        double l2 = decoupled ? 0 : weightDecay;
        for (Param p : params) {
            MemorySegment w = p.value().segment();
            MemorySegment g = p.grad().segment();
            MemorySegment m = state.buffer(p, "m").segment();
            MemorySegment v = state.buffer(p, "v").segment();
            if (p.value().dtype() == DType.FLOAT32) {
                // bulk copies to heap arrays, so the update loop is plain indexed array code the JIT vectorises
                ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
                float[] wa = w.toArray(F), ga = g.toArray(F), ma = m.toArray(F), va = v.toArray(F);
                float b1 = (float) beta1, b2 = (float) beta2, fl2 = (float) l2, fshrink = (float) shrink;
                float step = (float) (lr / c1), sc2 = (float) (1 / Math.sqrt(c2)), feps = (float) eps;
                for (int i = 0; i < wa.length; i++) {
                    float gi = ga[i] + fl2 * wa[i];
                    float mi = b1 * ma[i] + (1 - b1) * gi;
                    float vi = b2 * va[i] + (1 - b2) * gi * gi;
                    ma[i] = mi;
                    va[i] = vi;
                    wa[i] = wa[i] * fshrink - step * mi / ((float) Math.sqrt(vi) * sc2 + feps);
                }
                MemorySegment.copy(wa, 0, w, F, 0, wa.length);
                MemorySegment.copy(ma, 0, m, F, 0, ma.length);
                MemorySegment.copy(va, 0, v, F, 0, va.length);
            } else {
                ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
                long n = p.value().elementCount();
                double step = lr / c1, sc2 = 1 / Math.sqrt(c2);
                for (long i = 0; i < n; i++) {
                    double wi = w.getAtIndex(D, i);
                    double gi = g.getAtIndex(D, i) + l2 * wi;
                    double mi = beta1 * m.getAtIndex(D, i) + (1 - beta1) * gi;
                    double vi = beta2 * v.getAtIndex(D, i) + (1 - beta2) * gi * gi;
                    m.setAtIndex(D, i, mi);
                    v.setAtIndex(D, i, vi);
                    w.setAtIndex(D, i, wi * shrink - step * mi / (Math.sqrt(vi) * sc2 + eps));
                }
            }
        }
        steps = t;
    }

    @Override public long steps() { return steps; }
    @Override public Map<String, Tensor> state() { return state.asMap(); }

    @Override
    public void load(Map<String, Tensor> saved, long steps, List<Param> params) {
        if (steps > 0) state.load(saved, params);
        this.steps = steps;
    }

    @Override
    public Map<String, String> toMetadata() {
        return Map.of("optim.type", decoupled ? "adamw" : "adam", "optim.beta1", Double.toString(beta1),
                "optim.beta2", Double.toString(beta2), "optim.eps", Double.toString(eps),
                "optim.weight_decay", Double.toString(weightDecay));
    }

    @Override
    public String describe() {
        return (decoupled ? "AdamW" : "Adam") + "(betas=(" + beta1 + ", " + beta2 + "), eps=" + eps
                + ", weight_decay=" + weightDecay + ")";
    }

    @Override
    public void close() {
        state.close();
    }
}
