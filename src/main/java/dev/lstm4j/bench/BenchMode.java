package dev.lstm4j.bench;

import java.util.List;

/** What one benchmark step measures. */
public enum BenchMode {
    /** One forward pass in inference mode. */
    INFERENCE("inference"),
    /** A training step: forward in training mode, then backward of every gradient (no optimizer step). */
    TRAINING("training"),
    /**
     * One forward pass in inference mode on frozen parameters ({@code LstmParams.freeze}): what a service with fixed
     * weights runs; a backend may keep what it derives from the weights between calls. Not part of "all".
     */
    SERVING("serving");

    private final String label;

    BenchMode(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The modes of the standard suite ("all"): inference and training. */
    public static List<BenchMode> suite() {
        return List.of(INFERENCE, TRAINING);
    }

    public static BenchMode parse(String s) {
        for (BenchMode m : values()) {
            if (m.label.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("mode: expected inference, training or serving, got '" + s + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
