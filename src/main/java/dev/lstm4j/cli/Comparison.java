package dev.lstm4j.cli;

import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** The per-tensor errors of one backend run against the baseline run. */
record Comparison(BackendRun candidate, BackendRun baseline, List<Row> rows) {

    /**
     * @param maxAbs   max |a - b|
     * @param maxRel   max |a - b| / max |b| (relative to the tensor's largest baseline magnitude; 0 when b is all 0)
     * @param worst    max |a - b| / (tol * (1 + |b|)): at most 1 passes
     */
    record Row(String tensor, Shape shape, double maxAbs, double maxRel, double tolerance, double worst) {
        boolean passes() {
            return worst <= 1.0; // NaN fails
        }
    }

    static Comparison of(BackendRun candidate, BackendRun baseline, Tolerance tol) {
        List<Row> rows = new ArrayList<>();
        for (String name : baseline.tensors.keySet()) {
            Tensor b = baseline.tensors.get(name);
            Tensor a = candidate.tensors.get(name);
            if (a == null || !a.shape().equals(b.shape())) {
                throw new IllegalStateException("compare: " + candidate.label() + " returned "
                        + (a == null ? "no " + name : name + " of shape " + a.shape()) + ", expected " + b.shape());
            }
            double[] x = a.toDoubleArray(), y = b.toDoubleArray();
            double t = tol.forTensor(name);
            double maxAbs = 0, maxB = 0, worst = 0;
            for (int k = 0; k < x.length; k++) {
                double d = Math.abs(x[k] - y[k]);
                if (Double.isNaN(d)) {
                    maxAbs = worst = Double.NaN;
                    break;
                }
                maxAbs = Math.max(maxAbs, d);
                maxB = Math.max(maxB, Math.abs(y[k]));
                worst = Math.max(worst, d / (t * (1 + Math.abs(y[k]))));
            }
            double maxRel = maxB == 0 ? (maxAbs == 0 ? 0 : Double.POSITIVE_INFINITY) : maxAbs / maxB;
            rows.add(new Row(name, b.shape(), maxAbs, Double.isNaN(maxAbs) ? Double.NaN : maxRel, t, worst));
        }
        return new Comparison(candidate, baseline, rows);
    }

    boolean passes() {
        return rows.stream().allMatch(Row::passes);
    }

    long failures() {
        return rows.stream().filter(r -> !r.passes()).count();
    }
}
