package dev.lstm4j.cpu;

import dev.lstm4j.lstm.Activation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An ONNX activation ({@link Activation}) with the ONNX clip on its input, applied to a row of floats with the
 * Vector API: the same definitions and the same conventions at kinks as {@link Activation#apply} and
 * {@link Activation#derivative}, in float32.
 *
 * <p>Each kind has its own loop (the switch on the kind is outside it), and every vector lives and dies inside that
 * loop: nothing here takes or returns a vector, because a vector that crosses a call C2 does not inline is a heap
 * object (see VectorBoundaryTest). Whole vectors first, then the last n mod LANES floats in scalar code with the
 * same float32 semantics (partial masks may run in the Vector API's slow Java fallback). Scalars enter the vector
 * loops as broadcast vectors made before the loop: the scalar overloads ({@code x.add(1f)}) go through a virtual
 * call that C2 may fail to bind.
 */
final class VectorActivation {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final Activation.Kind kind;
    private final float alpha;
    private final float beta;
    private final float clip;

    /** @param clip the ONNX clip bound on the activation's input; {@code Float.POSITIVE_INFINITY} for none */
    VectorActivation(Activation a, float clip) {
        this.kind = a.kind();
        this.alpha = (float) a.alpha();
        this.beta = (float) a.beta();
        this.clip = clip;
    }

    /**
     * For j in 0..n-1, with x' = clip(x[j]): y[j] = act(x'), and when {@code d} is not null
     * d[j] = act'(x') * clip'(x[j]) (0 where |x[j]| > clip). Offsets count bytes; y and d may not overlap x.
     *
     * @param work scratch of at least n rounded up to whole vectors ({@link VectorExp#padded}) floats: sigmoid and
     *             tanh compute their exps there
     */
    void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff, int n,
               float[] work) {
        if ((kind == Activation.Kind.SIGMOID || kind == Activation.Kind.TANH) && work.length < VectorExp.padded(n)) {
            throw new IllegalArgumentException("work: expected at least " + VectorExp.padded(n) + " floats, got "
                    + work.length);
        }
        switch (kind) {
            case SIGMOID -> {
                sigmoid(x, xOff, y, yOff, d, dOff, n, clip, work);
                return;
            }
            case TANH -> {
                tanh(x, xOff, y, yOff, d, dOff, n, clip, work);
                return;
            }
            case RELU -> relu(x, xOff, y, yOff, d, dOff, n, clip);
            case AFFINE -> affine(x, xOff, y, yOff, d, dOff, n, clip, alpha, beta);
            case LEAKY_RELU -> leakyRelu(x, xOff, y, yOff, d, dOff, n, clip, alpha);
            case THRESHOLDED_RELU -> thresholdedRelu(x, xOff, y, yOff, d, dOff, n, clip, alpha);
            case SCALED_TANH -> scaledTanh(x, xOff, y, yOff, d, dOff, n, clip, alpha, beta);
            case HARD_SIGMOID -> hardSigmoid(x, xOff, y, yOff, d, dOff, n, clip, alpha, beta);
            case ELU -> elu(x, xOff, y, yOff, d, dOff, n, clip, alpha);
            case SOFTSIGN -> softsign(x, xOff, y, yOff, d, dOff, n, clip);
            case SOFTPLUS -> softplus(x, xOff, y, yOff, d, dOff, n, clip);
        }
        int full = n - n % S.length();
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float raw = x.get(F, xOff + bj);
            float v = Math.min(Math.max(raw, -clip), clip);
            float out = scalar(v);
            y.set(F, yOff + bj, out);
            if (d != null) {
                d.set(F, dOff + bj, Math.abs(raw) > clip ? 0f : scalarDerivative(v, out));
            }
        }
    }

    /** The activation in scalar float32, as the vector loops compute it lane by lane (not sigmoid and tanh). */
    float scalar(float x) {
        return switch (kind) {
            case SIGMOID, TANH -> throw new AssertionError("sigmoid and tanh compute their own last lanes");
            case RELU -> Math.max(x, 0f);
            case AFFINE -> Math.fma(x, alpha, beta);
            case LEAKY_RELU -> x < 0f ? x * alpha : x;
            case THRESHOLDED_RELU -> x <= alpha ? 0f : x; // ONNX: x for x > alpha
            case SCALED_TANH -> (float) Math.tanh(x * beta) * alpha;
            case HARD_SIGMOID -> Math.min(Math.max(Math.fma(x, alpha, beta), 0f), 1f);
            case ELU -> x < 0f ? (float) Math.expm1(x) * alpha : x;
            case SOFTSIGN -> x / (Math.abs(x) + 1f);
            // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the same function, without overflow for large x
            case SOFTPLUS -> Math.max(x, 0f) + (float) Math.log1p((float) Math.exp(-Math.abs(x)));
        };
    }

    /** The derivative at x in scalar float32, given y = scalar(x) (not sigmoid and tanh). */
    float scalarDerivative(float x, float y) {
        return switch (kind) {
            case SIGMOID, TANH -> throw new AssertionError("sigmoid and tanh compute their own last lanes");
            case RELU -> x <= 0f ? 0f : 1f;
            case AFFINE -> alpha;
            case LEAKY_RELU -> x < 0f ? alpha : 1f;
            case THRESHOLDED_RELU -> x <= alpha ? 0f : 1f;
            case SCALED_TANH -> {
                float t = (float) Math.tanh(x * beta);
                yield (1f - t * t) * (alpha * beta);
            }
            case HARD_SIGMOID -> {
                float z = Math.fma(x, alpha, beta);
                yield z > 0f && z < 1f ? alpha : 0f;
            }
            case ELU -> x < 0f ? (float) Math.exp(x) * alpha : 1f;
            case SOFTSIGN -> {
                float s = Math.abs(x) + 1f;
                yield 1f / (s * s);
            }
            case SOFTPLUS -> sigmoid(x);
        };
    }

    /** The logistic function in float32 (computed in double, rounded once): Softplus's derivative. */
    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /*
     * The vector loops, one per kind, over the whole vectors of the row (apply does the tail, but for sigmoid and
     * tanh). Each loads x, clips it to v, stores y and, when d is wanted, the derivative with the clip's gradient
     * (0 where |x| > clip).
     *
     * Sigmoid and tanh compute their exps in a pass of their own over the heap row work, with VectorExp, as the
     * standard kernels of FusedPointwise do, and with the same float32 operations: plain arithmetic, which gives the
     * same bits interpreted or compiled (the Vector API's EXP and TANH did not), and the same bits as the standard
     * kernels where no clip binds. The last n mod LANES floats go through the same operations in scalar code, their
     * exps in work's padding with the rest.
     */

    /** sigmoid(x) = 1 / (1 + e^-x). */
    private static void sigmoid(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff,
                                int n, float clip, float[] work) {
        int full = n - n % S.length();
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        for (int j = 0; j < full; j += S.length()) {
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + (long) j * Float.BYTES, LE);
            // blend, not min/max: Java's max and min order -0 and NaN, which costs x86 several instructions more
            raw.blend(hi, raw.compare(VectorOperators.GT, hi)).blend(lo, raw.compare(VectorOperators.LT, lo)).neg()
                    .intoArray(work, j);
        }
        int padded = tailArguments(x, xOff, n, full, clip, false, work);
        VectorExp.inPlace(work, 0, padded);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        boolean deriv = d != null;
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector out = one.div(one.add(FloatVector.fromArray(S, work, j)));
            out.intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
                out.mul(one.sub(out)).blend(zero, raw.abs().compare(VectorOperators.GT, hi))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float out = 1f / (1f + work[j]);
            y.set(F, yOff + bj, out);
            if (deriv) {
                d.set(F, dOff + bj, Math.abs(x.get(F, xOff + bj)) > clip ? 0f : out * (1f - out));
            }
        }
    }

    /** tanh(x) = 1 - 2 / (1 + e^2x): at most 1.8e-7 off, and exactly +-1 where e^2x saturates. */
    private static void tanh(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff,
                             int n, float clip, float[] work) {
        int full = n - n % S.length();
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        for (int j = 0; j < full; j += S.length()) {
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + (long) j * Float.BYTES, LE);
            FloatVector v = raw.blend(hi, raw.compare(VectorOperators.GT, hi))
                    .blend(lo, raw.compare(VectorOperators.LT, lo));
            v.add(v).intoArray(work, j);
        }
        int padded = tailArguments(x, xOff, n, full, clip, true, work);
        VectorExp.inPlace(work, 0, padded);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        boolean deriv = d != null;
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector out = one.sub(two.div(one.add(FloatVector.fromArray(S, work, j))));
            out.intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
                one.sub(out.mul(out)).blend(zero, raw.abs().compare(VectorOperators.GT, hi))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float out = 1f - 2f / (1f + work[j]);
            y.set(F, yOff + bj, out);
            if (deriv) {
                d.set(F, dOff + bj, Math.abs(x.get(F, xOff + bj)) > clip ? 0f : 1f - out * out);
            }
        }
    }

    /**
     * The exps' arguments of the last n mod LANES floats into work[full..n), -x' for sigmoid and x' + x' for tanh
     * (x' = clip(x[j])), and zeros up to a whole vector; returns the padded length.
     */
    private static int tailArguments(MemorySegment x, long xOff, int n, int full, float clip, boolean tanh,
                                     float[] work) {
        int padded = VectorExp.padded(n);
        for (int j = full; j < n; j++) {
            float v = Math.min(Math.max(x.get(F, xOff + (long) j * Float.BYTES), -clip), clip);
            work[j] = tanh ? v + v : -v;
        }
        java.util.Arrays.fill(work, n, padded, 0f);
        return padded;
    }

    private static void relu(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff,
                             int n, float clip) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            v.max(zero).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                VectorMask<Float> off = v.compare(VectorOperators.LE, zero)
                        .or(raw.abs().compare(VectorOperators.GT, hi));
                one.blend(zero, off).intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void affine(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff,
                               int n, float clip, float alpha, float beta) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector a = FloatVector.broadcast(S, alpha);
        FloatVector b = FloatVector.broadcast(S, beta);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            v.fma(a, b).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                a.blend(zero, raw.abs().compare(VectorOperators.GT, hi)).intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void leakyRelu(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                  long dOff, int n, float clip, float alpha) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            VectorMask<Float> neg = v.compare(VectorOperators.LT, zero);
            v.blend(v.mul(a), neg).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                one.blend(a, neg).blend(zero, raw.abs().compare(VectorOperators.GT, hi))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void thresholdedRelu(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                        long dOff, int n, float clip, float alpha) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            VectorMask<Float> below = v.compare(VectorOperators.LE, a); // ONNX: x for x > alpha, else 0
            v.blend(zero, below).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                one.blend(zero, below.or(raw.abs().compare(VectorOperators.GT, hi)))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void scaledTanh(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                   long dOff, int n, float clip, float alpha, float beta) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        FloatVector b = FloatVector.broadcast(S, beta);
        FloatVector ab = FloatVector.broadcast(S, alpha * beta);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            FloatVector t = v.mul(b).lanewise(VectorOperators.TANH);
            t.mul(a).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                one.sub(t.mul(t)).mul(ab).blend(zero, raw.abs().compare(VectorOperators.GT, hi))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void hardSigmoid(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                    long dOff, int n, float clip, float alpha, float beta) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        FloatVector b = FloatVector.broadcast(S, beta);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            FloatVector z = v.fma(a, b);
            z.max(zero).min(one).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                VectorMask<Float> inside = z.compare(VectorOperators.GT, zero).and(z.compare(VectorOperators.LT, one))
                        .andNot(raw.abs().compare(VectorOperators.GT, hi));
                zero.blend(a, inside).intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void elu(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d, long dOff,
                            int n, float clip, float alpha) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            VectorMask<Float> neg = v.compare(VectorOperators.LT, zero);
            v.blend(v.lanewise(VectorOperators.EXPM1).mul(a), neg).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                one.blend(v.lanewise(VectorOperators.EXP).mul(a), neg)
                        .blend(zero, raw.abs().compare(VectorOperators.GT, hi)).intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void softsign(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                 long dOff, int n, float clip) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            FloatVector s = v.abs().add(one);
            v.div(s).intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                one.div(s.mul(s)).blend(zero, raw.abs().compare(VectorOperators.GT, hi))
                        .intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }

    private static void softplus(MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment d,
                                 long dOff, int n, float clip) {
        FloatVector lo = FloatVector.broadcast(S, -clip);
        FloatVector hi = FloatVector.broadcast(S, clip);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        boolean deriv = d != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector raw = FloatVector.fromMemorySegment(S, x, xOff + bj, LE);
            FloatVector v = raw.max(lo).min(hi);
            v.max(zero).add(v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P))
                    .intoMemorySegment(y, yOff + bj, LE);
            if (deriv) {
                // d/dx log(1 + e^x) = sigmoid(x)
                one.div(v.neg().lanewise(VectorOperators.EXP).add(one))
                        .blend(zero, raw.abs().compare(VectorOperators.GT, hi)).intoMemorySegment(d, dOff + bj, LE);
            }
        }
    }
}
