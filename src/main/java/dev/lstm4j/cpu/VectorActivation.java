package dev.lstm4j.cpu;

import dev.lstm4j.lstm.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An ONNX activation ({@link Activation}) on float vectors: the same definitions and the same conventions at kinks
 * as {@link Activation#apply} and {@link Activation#derivative}, in float32.
 */
final class VectorActivation {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final Activation.Kind kind;
    private final float alpha;
    private final float beta;

    VectorActivation(Activation a) {
        this.kind = a.kind();
        this.alpha = (float) a.alpha();
        this.beta = (float) a.beta();
    }

    /*
     * apply and derivative stay small so that C2 inlines them into the fused step: sigmoid and tanh (the common case)
     * are handled inline; the others go through a separate method. A vector crossing a call that is not inlined is
     * boxed, which costs more than the arithmetic. Scalars enter as broadcast vectors of the constant species (k):
     * the scalar overloads (x.add(1f)) go through a virtual call that C2 may fail to bind, and then run the slow
     * Java fallback of the Vector API.
     */
    FloatVector apply(FloatVector x) {
        if (kind == Activation.Kind.SIGMOID) {
            return sigmoid(x);
        }
        if (kind == Activation.Kind.TANH) {
            return x.lanewise(VectorOperators.TANH);
        }
        return applyOther(x);
    }

    /** The derivative at x, given y = apply(x) (sigmoid and tanh reuse y instead of a second exponential). */
    FloatVector derivative(FloatVector x, FloatVector y) {
        if (kind == Activation.Kind.SIGMOID) {
            return y.mul(k(1f).sub(y));
        }
        if (kind == Activation.Kind.TANH) {
            return k(1f).sub(y.mul(y));
        }
        return derivativeOther(x, y);
    }

    private FloatVector applyOther(FloatVector x) {
        FloatVector zero = k(0f);
        return switch (kind) {
            case SIGMOID -> sigmoid(x);
            case TANH -> x.lanewise(VectorOperators.TANH);
            case RELU -> x.max(zero);
            case AFFINE -> x.fma(k(alpha), k(beta));
            case LEAKY_RELU -> x.blend(x.mul(k(alpha)), x.compare(VectorOperators.LT, zero));
            case THRESHOLDED_RELU -> x.blend(zero, x.compare(VectorOperators.LE, k(alpha))); // ONNX: x for x > alpha
            case SCALED_TANH -> x.mul(k(beta)).lanewise(VectorOperators.TANH).mul(k(alpha));
            case HARD_SIGMOID -> x.fma(k(alpha), k(beta)).max(zero).min(k(1f));
            case ELU -> x.blend(x.lanewise(VectorOperators.EXPM1).mul(k(alpha)), x.compare(VectorOperators.LT, zero));
            case SOFTSIGN -> x.div(x.abs().add(k(1f)));
            // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the same function, without overflow for large x
            case SOFTPLUS -> x.max(zero).add(x.abs().neg().lanewise(VectorOperators.EXP)
                    .lanewise(VectorOperators.LOG1P));
        };
    }

    private FloatVector derivativeOther(FloatVector x, FloatVector y) {
        FloatVector zero = k(0f);
        FloatVector one = k(1f);
        return switch (kind) {
            case SIGMOID -> y.mul(one.sub(y));
            case TANH -> one.sub(y.mul(y));
            case RELU -> one.blend(zero, x.compare(VectorOperators.LE, zero));
            case AFFINE -> k(alpha);
            case LEAKY_RELU -> one.blend(k(alpha), x.compare(VectorOperators.LT, zero));
            case THRESHOLDED_RELU -> one.blend(zero, x.compare(VectorOperators.LE, k(alpha)));
            case SCALED_TANH -> {
                FloatVector t = x.mul(k(beta)).lanewise(VectorOperators.TANH);
                yield one.sub(t.mul(t)).mul(k(alpha * beta));
            }
            case HARD_SIGMOID -> {
                FloatVector z = x.fma(k(alpha), k(beta));
                VectorMask<Float> inside = z.compare(VectorOperators.GT, zero).and(z.compare(VectorOperators.LT, one));
                yield zero.blend(k(alpha), inside);
            }
            case ELU -> one.blend(x.lanewise(VectorOperators.EXP).mul(k(alpha)), x.compare(VectorOperators.LT, zero));
            case SOFTSIGN -> {
                FloatVector d = x.abs().add(one);
                yield one.div(d.mul(d));
            }
            case SOFTPLUS -> sigmoid(x);
        };
    }

    private static FloatVector sigmoid(FloatVector x) {
        FloatVector one = k(1f);
        return one.div(x.neg().lanewise(VectorOperators.EXP).add(one));
    }

    /** v in every lane of the preferred species. */
    static FloatVector k(float v) {
        return FloatVector.broadcast(S, v);
    }
}
