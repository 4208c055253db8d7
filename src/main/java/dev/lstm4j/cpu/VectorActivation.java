package dev.lstm4j.cpu;

import dev.lstm4j.lstm.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * An ONNX activation ({@link Activation}) on float vectors: the same definitions and the same conventions at kinks
 * as {@link Activation#apply} and {@link Activation#derivative}, in float32.
 */
final class VectorActivation {
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
     * boxed, which costs more than the arithmetic.
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

    FloatVector derivative(FloatVector x, FloatVector y) {
        if (kind == Activation.Kind.SIGMOID) {
            return y.mul(y.neg().add(1f));
        }
        if (kind == Activation.Kind.TANH) {
            return y.mul(y).neg().add(1f);
        }
        return derivativeOther(x, y);
    }

    private FloatVector applyOther(FloatVector x) {
        return switch (kind) {
            case SIGMOID -> sigmoid(x);
            case TANH -> x.lanewise(VectorOperators.TANH);
            case RELU -> x.max(0f);
            case AFFINE -> x.fma(alpha, beta);
            case LEAKY_RELU -> x.blend(x.mul(alpha), x.lt(0f));
            case THRESHOLDED_RELU -> x.blend(0f, x.lt(alpha));
            case SCALED_TANH -> x.mul(beta).lanewise(VectorOperators.TANH).mul(alpha);
            case HARD_SIGMOID -> x.fma(alpha, beta).max(0f).min(1f);
            case ELU -> x.blend(x.lanewise(VectorOperators.EXPM1).mul(alpha), x.lt(0f));
            case SOFTSIGN -> x.div(x.abs().add(1f));
            // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the same function, without overflow for large x
            case SOFTPLUS -> x.max(0f).add(x.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
        };
    }

    /** The derivative at x, given y = apply(x) (sigmoid and tanh reuse y instead of a second exponential). */
    private FloatVector derivativeOther(FloatVector x, FloatVector y) {
        return switch (kind) {
            case SIGMOID -> y.mul(y.neg().add(1f));
            case TANH -> y.mul(y).neg().add(1f);
            case RELU -> ones(x).blend(0f, x.compare(VectorOperators.LE, 0f));
            case AFFINE -> ones(x).mul(alpha);
            case LEAKY_RELU -> ones(x).blend(alpha, x.lt(0f));
            case THRESHOLDED_RELU -> ones(x).blend(0f, x.lt(alpha));
            case SCALED_TANH -> {
                FloatVector t = x.mul(beta).lanewise(VectorOperators.TANH);
                yield t.mul(t).neg().add(1f).mul(alpha * beta);
            }
            case HARD_SIGMOID -> {
                FloatVector z = x.fma(alpha, beta);
                VectorMask<Float> inside = z.compare(VectorOperators.GT, 0f).and(z.lt(1f));
                yield FloatVector.zero(x.species()).blend(alpha, inside);
            }
            case ELU -> ones(x).blend(x.lanewise(VectorOperators.EXP).mul(alpha), x.lt(0f));
            case SOFTSIGN -> {
                FloatVector d = x.abs().add(1f);
                yield ones(x).div(d.mul(d));
            }
            case SOFTPLUS -> sigmoid(x);
        };
    }

    private static FloatVector sigmoid(FloatVector x) {
        return ones(x).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    private static FloatVector ones(FloatVector like) {
        return FloatVector.broadcast(like.species(), 1f);
    }
}
