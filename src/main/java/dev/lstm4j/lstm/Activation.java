package dev.lstm4j.lstm;

import java.util.Locale;

/**
 * An activation function of the ONNX LSTM operator, with its alpha and beta. Names and defaults follow the ONNX
 * operator set: Sigmoid, Tanh, Relu, Affine(alpha*x+beta), LeakyRelu(alpha=0.01), ThresholdedRelu(alpha=1),
 * ScaledTanh(alpha*tanh(beta*x)), HardSigmoid(alpha=0.2, beta=0.5), Elu(alpha=1), Softsign, Softplus.
 */
public record Activation(Kind kind, double alpha, double beta) {

    public enum Kind {
        SIGMOID("Sigmoid", Double.NaN, Double.NaN),
        TANH("Tanh", Double.NaN, Double.NaN),
        RELU("Relu", Double.NaN, Double.NaN),
        AFFINE("Affine", 1.0, 0.0),
        LEAKY_RELU("LeakyRelu", 0.01, Double.NaN),
        THRESHOLDED_RELU("ThresholdedRelu", 1.0, Double.NaN),
        SCALED_TANH("ScaledTanh", 1.0, 1.0),
        HARD_SIGMOID("HardSigmoid", 0.2, 0.5),
        ELU("Elu", 1.0, Double.NaN),
        SOFTSIGN("Softsign", Double.NaN, Double.NaN),
        SOFTPLUS("Softplus", Double.NaN, Double.NaN);

        private final String onnxName;
        private final double defaultAlpha;
        private final double defaultBeta;

        Kind(String onnxName, double defaultAlpha, double defaultBeta) {
            this.onnxName = onnxName;
            this.defaultAlpha = defaultAlpha;
            this.defaultBeta = defaultBeta;
        }

        public String onnxName() {
            return onnxName;
        }

        boolean usesAlpha() {
            return !Double.isNaN(defaultAlpha);
        }

        boolean usesBeta() {
            return !Double.isNaN(defaultBeta);
        }
    }

    public static final Activation SIGMOID = of(Kind.SIGMOID);
    public static final Activation TANH = of(Kind.TANH);

    public Activation {
        if (kind == null) {
            throw new IllegalArgumentException("activation kind: expected one of the ONNX activations, got null");
        }
        if (kind.usesAlpha() && !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("activation " + kind.onnxName + " alpha: expected a finite number, got " + alpha);
        }
        if (kind.usesBeta() && !Double.isFinite(beta)) {
            throw new IllegalArgumentException("activation " + kind.onnxName + " beta: expected a finite number, got " + beta);
        }
        if (!kind.usesAlpha()) {
            alpha = 0;
        }
        if (!kind.usesBeta()) {
            beta = 0;
        }
    }

    /** The activation with the ONNX default alpha and beta. */
    public static Activation of(Kind kind) {
        return new Activation(kind, kind.defaultAlpha, kind.defaultBeta);
    }

    public static Activation of(Kind kind, double alpha) {
        return new Activation(kind, alpha, kind.defaultBeta);
    }

    /** Parses an ONNX name, optionally with parameters: {@code Tanh}, {@code LeakyRelu(0.1)}, {@code HardSigmoid(0.2,0.5)}. */
    public static Activation parse(String text) {
        String s = text.strip();
        String name = s;
        double[] args = new double[0];
        int open = s.indexOf('(');
        if (open >= 0) {
            if (!s.endsWith(")")) {
                throw new IllegalArgumentException("activation: expected NAME or NAME(alpha[,beta]), got '" + text + "'");
            }
            name = s.substring(0, open).strip();
            String[] parts = s.substring(open + 1, s.length() - 1).split(",");
            args = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    args[i] = Double.parseDouble(parts[i].strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("activation: expected a number in '" + text + "', got '" + parts[i] + "'");
                }
            }
        }
        for (Kind k : Kind.values()) {
            if (k.onnxName.equalsIgnoreCase(name) || k.name().equalsIgnoreCase(name)) {
                double a = args.length > 0 ? args[0] : k.defaultAlpha;
                double b = args.length > 1 ? args[1] : k.defaultBeta;
                return new Activation(k, a, b);
            }
        }
        throw new IllegalArgumentException("activation: expected one of Sigmoid, Tanh, Relu, Affine, LeakyRelu, "
                + "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus, got '" + name + "'");
    }

    public double apply(double x) {
        return switch (kind) {
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case RELU -> Math.max(0.0, x);
            case AFFINE -> alpha * x + beta;
            case LEAKY_RELU -> x >= 0 ? x : alpha * x;
            case THRESHOLDED_RELU -> x > alpha ? x : 0.0; // ONNX: y = x for x > alpha, y = 0 otherwise
            case SCALED_TANH -> alpha * Math.tanh(beta * x);
            case HARD_SIGMOID -> Math.min(Math.max(alpha * x + beta, 0.0), 1.0);
            case ELU -> x >= 0 ? x : alpha * (Math.exp(x) - 1.0);
            case SOFTSIGN -> x / (1.0 + Math.abs(x));
            case SOFTPLUS -> x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
        };
    }

    /** d apply(x) / dx. At a kink the derivative is taken from the side that ONNX's defining inequality includes. */
    public double derivative(double x) {
        return switch (kind) {
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield s * (1.0 - s);
            }
            case TANH -> {
                double t = Math.tanh(x);
                yield 1.0 - t * t;
            }
            case RELU -> x > 0 ? 1.0 : 0.0;
            case AFFINE -> alpha;
            case LEAKY_RELU -> x >= 0 ? 1.0 : alpha;
            case THRESHOLDED_RELU -> x > alpha ? 1.0 : 0.0;
            case SCALED_TANH -> {
                double t = Math.tanh(beta * x);
                yield alpha * beta * (1.0 - t * t);
            }
            case HARD_SIGMOID -> {
                double y = alpha * x + beta;
                yield (y > 0.0 && y < 1.0) ? alpha : 0.0;
            }
            case ELU -> x >= 0 ? 1.0 : alpha * Math.exp(x);
            case SOFTSIGN -> {
                double d = 1.0 + Math.abs(x);
                yield 1.0 / (d * d);
            }
            case SOFTPLUS -> 1.0 / (1.0 + Math.exp(-x));
        };
    }

    /** The ONNX text form, parseable by {@link #parse(String)}. */
    @Override
    public String toString() {
        if (kind.usesBeta()) {
            return String.format(Locale.ROOT, "%s(%s,%s)", kind.onnxName, num(alpha), num(beta));
        }
        if (kind.usesAlpha()) {
            return String.format(Locale.ROOT, "%s(%s)", kind.onnxName, num(alpha));
        }
        return kind.onnxName;
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) + ".0" : Double.toString(v);
    }
}
