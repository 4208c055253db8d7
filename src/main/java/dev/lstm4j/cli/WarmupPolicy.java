package dev.lstm4j.cli;

import dev.lstm4j.bench.JitWarmup;
import java.util.Locale;

/**
 * {@code compare --warmup}: a fixed count of untimed runs of each backend before its timed ones, or {@code auto}
 * (the default): untimed runs until the JIT has gone quiet ({@link JitWarmup}: at least one run, at most
 * {@link #MAX_AUTO_SECONDS} a backend). One untimed run measured the fast CPU backend's first calls, while C2 was
 * still compiling its kernels: 18-20 ms a forward pass of the example model (12 steps, 2 layers, H = 16), 0.48
 * after 200 untimed runs, and 0.04 once the JIT had gone quiet (after 8,284 runs, 5.7 s).
 *
 * @param runs the count of untimed runs, or -1 for auto
 */
record WarmupPolicy(int runs) {
    static final WarmupPolicy AUTO = new WarmupPolicy(-1);
    static final double MAX_AUTO_SECONDS = 20;

    /** "auto" or a count >= 0. */
    static WarmupPolicy parse(String text) {
        if (text.equals("auto")) return AUTO;
        try {
            int n = Integer.parseInt(text);
            if (n >= 0) return new WarmupPolicy(n);
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new UsageException("--warmup: expected auto or a count >= 0, got '" + text + "'");
    }

    boolean auto() {
        return runs < 0;
    }

    /** Runs step as this policy says; for a fixed count, settled says nothing. */
    JitWarmup.Result warmUp(Runnable step) {
        if (auto()) {
            return new JitWarmup(MAX_AUTO_SECONDS, 1).run(step);
        }
        long start = System.nanoTime();
        for (int i = 0; i < runs; i++) step.run();
        return new JitWarmup.Result((System.nanoTime() - start) / 1e9, runs, false);
    }

    /** What came before the timed runs, for the timing table's note. */
    String describe() {
        if (auto()) {
            return "each backend's untimed runs until the JIT had been quiet for " + JitWarmup.QUIET_SECONDS
                    + " s (at most " + (int) MAX_AUTO_SECONDS + " s)";
        }
        return runs + " untimed warm-up run" + (runs == 1 ? "" : "s");
    }

    /** One backend's warm-up, for its row: runs and seconds, and with auto whether the JIT was still busy. */
    String describe(JitWarmup.Result r) {
        String s = r.steps() + (r.steps() == 1 ? " run, " : " runs, ") + String.format(Locale.ROOT, "%.1f s", r.seconds());
        return auto() && !r.settled() ? s + ", JIT still compiling" : s;
    }
}
