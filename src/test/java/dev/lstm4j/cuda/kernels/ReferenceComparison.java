package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs one case forward and backward on a float32 kernel backend and on the float64 reference with the same
 * weights and data (the float64 copies hold exactly the float32 values), and compares every result.
 *
 * <p>Tolerance: |kernel - reference| <= {@link #TOLERANCE} * max(1, max |reference|) per tensor. The kernels
 * compute in float32 (unit roundoff 6e-8); in these cases every value is a dot product of at most ~45 terms per
 * step, propagated through at most 6 steps and 3 layers, and weight gradients sum at most T*B = 36 rows, so the
 * accumulated float32 error is bounded by a few hundred roundoffs of the largest magnitude involved (~2e-5); it is
 * far below the differences any semantic error makes (a dropped peephole, a wrong mask or clip moves results by
 * 1e-2 or more, see HostKernelsVsReferenceTest#theComparisonDetectsAWrongVariant).
 */
final class ReferenceComparison {
    static final double TOLERANCE = 2e-5;

    /** A test case: the spec, the data's sizes and options. */
    record Case(String name, LstmSpec spec, int steps, int batch, int[] lengths, boolean initialState,
                boolean stateGradients, long seed, double weightScale) {
        Case withLengths(int... l) {
            return new Case(name, spec, steps, batch, l, initialState, stateGradients, seed, weightScale);
        }

        Case withInitialState() {
            return new Case(name, spec, steps, batch, lengths, true, stateGradients, seed, weightScale);
        }

        Case withoutStateGradients() {
            return new Case(name, spec, steps, batch, lengths, initialState, false, seed, weightScale);
        }

        Case withSpec(String newName, LstmSpec newSpec) {
            return new Case(newName, newSpec, steps, batch, lengths, initialState, stateGradients, seed, weightScale);
        }

        Case withoutLengths(String newName) {
            return new Case(newName, spec, steps, batch, null, initialState, stateGradients, seed, weightScale);
        }

        /** Weights uniform in [-scale, scale]; smaller for activations that are unbounded above. */
        Case withWeightScale(double scale) {
            return new Case(name, spec, steps, batch, lengths, initialState, stateGradients, seed, scale);
        }

        LstmParams weights() {
            return ReferenceComparison.weights(spec, seed + 1, weightScale);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Case of(String name, LstmSpec spec, int steps, int batch) {
        return new Case(name, spec, steps, batch, null, false, true, name.hashCode(), 0.8);
    }

    /** Everything a case produced on one backend, as float64 arrays under stable names. */
    static Map<String, double[]> run(Case c, String backend, DType dtype, LstmParams weights32) {
        SplittableRandom random = new SplittableRandom(c.seed());
        LstmSpec spec = c.spec();
        Map<String, double[]> results = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(dtype).backend(backend).params(weights32.to(dtype)).build()) {
            Shape inShape = spec.batchFirst()
                    ? Shape.of(c.batch(), c.steps(), spec.inputSize())
                    : Shape.of(c.steps(), c.batch(), spec.inputSize());
            Tensor x = uniform(arena, dtype, inShape, random, 1.0);
            LstmInput in = LstmInput.of(x).training(true).withDropoutSeed(c.seed() * 31);
            if (c.lengths() != null) {
                in = in.withLengths(c.lengths());
            }
            Tensor h0 = uniform(arena, dtype, LstmShapes.hiddenStateShape(spec, c.batch()), random, 0.8);
            Tensor c0 = uniform(arena, dtype, LstmShapes.cellStateShape(spec, c.batch()), random, 0.8);
            if (c.initialState()) {
                in = in.withInitialState(h0, c0);
            }
            Tensor dy = uniform(arena, dtype, LstmShapes.outputShape(spec, c.steps(), c.batch()), random, 1.0);
            Tensor dhN = uniform(arena, dtype, LstmShapes.hiddenStateShape(spec, c.batch()), random, 1.0);
            Tensor dcN = uniform(arena, dtype, LstmShapes.cellStateShape(spec, c.batch()), random, 1.0);
            try (LstmOutput out = lstm.forward(in);
                 LstmGradients g = c.stateGradients() ? lstm.backward(out, dy, dhN, dcN) : lstm.backward(out, dy)) {
                results.put("output", out.output().toDoubleArray());
                results.put("h_n", out.hN().toDoubleArray());
                results.put("c_n", out.cN().toDoubleArray());
                results.put("d input", g.input().toDoubleArray());
                results.put("d h0", g.h0().toDoubleArray());
                results.put("d c0", g.c0().toDoubleArray());
                for (String name : spec.parameterNames()) {
                    results.put("d " + name, g.params().get(name).toDoubleArray());
                }
            }
        }
        return results;
    }

    /** Float32 weights drawn uniformly in [-scale, scale]: wide enough to reach every activation's regimes. */
    static LstmParams weights(LstmSpec spec, long seed, double scale) {
        LstmParams p = LstmParams.zeros(spec, DType.FLOAT32);
        SplittableRandom random = new SplittableRandom(seed);
        for (Tensor t : p.asMap().values()) {
            for (long i = 0; i < t.elementCount(); i++) {
                t.setFlat(i, random.nextDouble(-scale, scale));
            }
        }
        return p;
    }

    static Tensor uniform(Arena arena, DType dtype, Shape shape, SplittableRandom random, double scale) {
        Tensor t = Tensor.zeros(arena, dtype, shape);
        for (long i = 0; i < t.elementCount(); i++) {
            t.setFlat(i, (float) random.nextDouble(-scale, scale)); // float32-representable in both dtypes
        }
        return t;
    }

    /** Largest |a - b| / max(1, max |b|) over the named results. */
    static double worstScaledError(Map<String, double[]> actual, Map<String, double[]> expected) {
        double worst = 0;
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
            double[] a = actual.get(e.getKey());
            double[] b = e.getValue();
            double scale = Math.max(1.0, maxAbs(b));
            for (int i = 0; i < b.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
            }
        }
        return worst;
    }

    static void assertClose(Case c, Map<String, double[]> actual, Map<String, double[]> expected) {
        assertEquals(expected.keySet(), actual.keySet(), c + ": result names");
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
            double[] a = actual.get(e.getKey());
            double[] b = e.getValue();
            assertEquals(b.length, a.length, c + ": length of " + e.getKey());
            double scale = Math.max(1.0, maxAbs(b));
            for (int i = 0; i < b.length; i++) {
                if (!(Math.abs(a[i] - b[i]) <= TOLERANCE * scale)) {
                    fail(c + ": " + e.getKey() + "[" + i + "] = " + a[i] + ", reference " + b[i] + " (|diff| "
                            + Math.abs(a[i] - b[i]) + " > " + TOLERANCE + " * " + scale + ")");
                }
            }
        }
    }

    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    private ReferenceComparison() {}
}
