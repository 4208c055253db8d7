package dev.lstm4j.train;

/** The learning rate for an epoch (0-based) and a global step (0-based). */
public interface LrSchedule {
    double lr(int epoch, long step);

    String describe();

    static LrSchedule constant(double lr) {
        requirePositive(lr);
        return new LrSchedule() {
            public double lr(int epoch, long step) { return lr; }
            public String describe() { return "constant " + lr; }
        };
    }

    /**
     * The PTB recipe of Zaremba et al.: {@code lr} for the first {@code flatEpochs} epochs, then multiplied by
     * {@code decay} after each further epoch: lr * decay^max(0, epoch + 1 - flatEpochs).
     */
    static LrSchedule stepDecay(double lr, int flatEpochs, double decay) {
        requirePositive(lr);
        if (flatEpochs < 0) throw new IllegalArgumentException("decay start: expected >= 0 epochs, got " + flatEpochs);
        if (!(decay > 0 && decay <= 1)) throw new IllegalArgumentException("lr decay: expected 0 < d <= 1, got " + decay);
        return new LrSchedule() {
            public double lr(int epoch, long step) { return lr * Math.pow(decay, Math.max(0, epoch + 1 - flatEpochs)); }
            public String describe() { return "step decay " + lr + " x" + decay + " per epoch after epoch " + flatEpochs; }
        };
    }

    /** Cosine annealing from {@code lr} to {@code minLr} over {@code totalSteps} steps, then {@code minLr}. */
    static LrSchedule cosine(double lr, double minLr, long totalSteps) {
        requirePositive(lr);
        if (!(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("min lr: expected 0..lr, got " + minLr);
        if (totalSteps < 1) throw new IllegalArgumentException("total steps: expected >= 1, got " + totalSteps);
        return new LrSchedule() {
            public double lr(int epoch, long step) {
                double f = Math.min(1.0, (double) step / totalSteps);
                return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * f));
            }
            public String describe() { return "cosine " + lr + " -> " + minLr + " over " + totalSteps + " steps"; }
        };
    }

    private static void requirePositive(double lr) {
        if (!(lr > 0 && Double.isFinite(lr))) throw new IllegalArgumentException("lr: expected > 0, got " + lr);
    }
}
