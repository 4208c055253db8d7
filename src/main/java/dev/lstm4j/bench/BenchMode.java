package dev.lstm4j.bench;

/** What one benchmark step measures. */
public enum BenchMode {
    /** One forward pass in inference mode. */
    INFERENCE("inference"),
    /** A training step: forward in training mode, then backward of every gradient (no optimizer step). */
    TRAINING("training");

    private final String label;

    BenchMode(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static BenchMode parse(String s) {
        for (BenchMode m : values()) {
            if (m.label.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("mode: expected inference or training, got '" + s + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
