package dev.lstm4j.nn;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax cross-entropy over the last dimension, computed stably as logsumexp(z) - z[target] with the row maximum
 * subtracted first (so logits of any size give finite losses). Rows whose target equals {@link #IGNORE} (as
 * PyTorch's ignore_index) contribute neither loss nor gradient. The loss is the mean over counted rows.
 */
public final class SoftmaxCrossEntropy {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Target value of a row to skip. */
    public static final int IGNORE = -100;

    private SoftmaxCrossEntropy() {}

    /**
     * @param sumLoss   sum of -log p(target) over counted rows (nats)
     * @param count     rows counted
     * @param correct   counted rows whose arg-max equals the target
     * @param gradLogits d(mean loss)/d logits, [N, C]; null when not asked for
     */
    public record Result(double sumLoss, int count, int correct, Tensor gradLogits) {
        public double meanLoss() {
            return count == 0 ? 0.0 : sumLoss / count;
        }
    }

    /** logits: [N, C]; targets: N entries in 0..C-1 or {@link #IGNORE}. The gradient is allocated in {@code arena} if non-null. */
    public static Result compute(Tensor logits, int[] targets, Arena arena) {
        if (logits.shape().rank() != 2) {
            throw new IllegalArgumentException("logits: expected [N, C], got shape " + logits.shape());
        }
        int n = logits.shape().intDim(0);
        int classes = logits.shape().intDim(1);
        if (targets.length != n) {
            throw new IllegalArgumentException("targets: expected " + n + " entries (one per row of logits), got "
                    + targets.length);
        }
        int count = 0;
        for (int r = 0; r < n; r++) {
            int t = targets[r];
            if (t == IGNORE) continue;
            if (t < 0 || t >= classes) {
                throw new IllegalArgumentException("targets[" + r + "]: expected a class in 0.." + (classes - 1)
                        + " or " + IGNORE + " (ignore), got " + t);
            }
            count++;
        }
        Tensor grad = arena == null ? null : Tensor.zeros(arena, logits.dtype(), logits.shape());
        if (logits.dtype() == DType.FLOAT32) {
            return float32(logits, targets, grad, n, classes, count);
        }
        double[] row = new double[classes];
        double sumLoss = 0;
        int correct = 0;
        for (int r = 0; r < n; r++) {
            int t = targets[r];
            if (t == IGNORE) continue;
            readRow(logits, r, row);
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int c = 0; c < classes; c++) {
                if (row[c] > max) {
                    max = row[c];
                    arg = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                row[c] = Math.exp(row[c] - max);
                sum += row[c];
            }
            double logSum = Math.log(sum);
            double zt = readAt(logits, (long) r * classes + t) - max;
            sumLoss += logSum - zt;
            if (arg == t) correct++;
            if (grad != null) {
                double inv = 1.0 / (sum * count);
                for (int c = 0; c < classes; c++) row[c] *= inv;
                row[t] -= 1.0 / count;
                writeRow(grad, r, row);
            }
        }
        return new Result(sumLoss, count, correct, grad);
    }

    /**
     * The float32 path: exp over whole vectors (the Vector API's EXP), the row's sum and the loss in double. Agrees
     * with the float64 path to float32 rounding.
     */
    private static Result float32(Tensor logits, int[] targets, Tensor grad, int n, int classes, int count) {
        float[] row = new float[classes];
        int width = FS.length();
        int bound = classes - classes % width;
        double sumLoss = 0;
        int correct = 0;
        MemorySegment src = logits.segment();
        for (int r = 0; r < n; r++) {
            int t = targets[r];
            if (t == IGNORE) continue;
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * classes * 4, row, 0, classes);
            float max = Float.NEGATIVE_INFINITY;
            int arg = 0;
            for (int c = 0; c < classes; c++) {
                if (row[c] > max) {
                    max = row[c];
                    arg = c;
                }
            }
            float zt = row[t] - max;
            double sum = 0;
            int c = 0;
            for (; c < bound; c += width) {
                FloatVector e = FloatVector.fromArray(FS, row, c).sub(max).lanewise(VectorOperators.EXP);
                e.intoArray(row, c);
                sum += e.reduceLanes(VectorOperators.ADD);
            }
            for (; c < classes; c++) {
                row[c] = (float) Math.exp(row[c] - max);
                sum += row[c];
            }
            sumLoss += Math.log(sum) - zt;
            if (arg == t) correct++;
            if (grad != null) {
                float inv = (float) (1.0 / (sum * count));
                for (c = 0; c < bound; c += width) FloatVector.fromArray(FS, row, c).mul(inv).intoArray(row, c);
                for (; c < classes; c++) row[c] *= inv;
                row[t] -= (float) (1.0 / count);
                MemorySegment.copy(row, 0, grad.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * classes * 4, classes);
            }
        }
        return new Result(sumLoss, count, correct, grad);
    }

    /** Row-wise softmax probabilities of a [C] slice, with temperature; used to sample text. */
    public static double[] softmax(double[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.exp((logits[c] - max) / temperature);
            sum += p[c];
        }
        for (int c = 0; c < p.length; c++) p[c] /= sum;
        return p;
    }

    static void readRow(Tensor t, int r, double[] row) {
        MemorySegment s = t.segment();
        long base = (long) r * row.length;
        if (t.dtype() == DType.FLOAT32) {
            for (int c = 0; c < row.length; c++) row[c] = s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + c);
        } else {
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE_UNALIGNED, base * 8, row, 0, row.length);
        }
    }

    private static double readAt(Tensor t, long i) {
        return t.getFlat(i);
    }

    private static void writeRow(Tensor t, int r, double[] row) {
        MemorySegment s = t.segment();
        long base = (long) r * row.length;
        if (t.dtype() == DType.FLOAT32) {
            for (int c = 0; c < row.length; c++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + c, (float) row[c]);
        } else {
            MemorySegment.copy(row, 0, s, ValueLayout.JAVA_DOUBLE_UNALIGNED, base * 8, row.length);
        }
    }
}
