package dev.lstm4j.train;

import java.util.Map;

/** Builds an optimizer from its name and hyper-parameters, or from a checkpoint's metadata. */
public final class Optimizers {
    private Optimizers() {}

    /** @param type sgd, adam or adamw */
    public static Optimizer create(String type, double momentum, double beta1, double beta2, double eps, double weightDecay) {
        return switch (type.toLowerCase(java.util.Locale.ROOT)) {
            case "sgd" -> new Sgd(momentum, weightDecay);
            case "adam" -> new Adam(beta1, beta2, eps, weightDecay, false);
            case "adamw" -> new Adam(beta1, beta2, eps, weightDecay, true);
            default -> throw new IllegalArgumentException("optimizer: expected sgd, adam or adamw, got '" + type + "'");
        };
    }

    public static Optimizer fromMetadata(Map<String, String> m) {
        String type = m.get("optim.type");
        if (type == null) throw new IllegalArgumentException("checkpoint: no optimizer recorded (metadata 'optim.type')");
        try {
            return create(type, d(m, "optim.momentum", 0), d(m, "optim.beta1", 0.9), d(m, "optim.beta2", 0.999),
                    d(m, "optim.eps", 1e-8), d(m, "optim.weight_decay", 0));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint: bad optimizer metadata: " + e.getMessage());
        }
    }

    private static double d(Map<String, String> m, String key, double fallback) {
        String v = m.get(key);
        return v == null ? fallback : Double.parseDouble(v);
    }
}
