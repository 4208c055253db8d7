package dev.lstm4j.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A short benchmark without JMH (for {@code lstm4j bench --quick}): per case, warm-up steps until the JIT has gone
 * quiet ({@link JitWarmup}: at least 3 steps, at most {@link #MAX_WARMUP_SECONDS}; the progress line says how long it
 * took, and when the JIT was still busy at the cap), then timed steps until a time budget or a sample count is
 * reached, and the median. A first look, not a measurement to publish: nothing isolates the run from other
 * processes. The JMH suite (benchmarks/) is the reference. Where the JVM does not count its compilation time, the
 * warm-up is a third of the budget.
 */
public final class QuickBench {
    /** At most 30 s of warm-up per case. */
    public static final double MAX_WARMUP_SECONDS = 30;

    private final double secondsPerCase;
    private final int maxSamples;
    private final JitWarmup warmup;

    /** @param secondsPerCase time budget of the timed steps of one case, > 0 */
    public QuickBench(double secondsPerCase, int maxSamples) {
        this(secondsPerCase, maxSamples, new JitWarmup(MAX_WARMUP_SECONDS, 3));
    }

    QuickBench(double secondsPerCase, int maxSamples, JitWarmup warmup) {
        if (!(secondsPerCase > 0)) {
            throw new IllegalArgumentException("seconds per case: expected > 0, got " + secondsPerCase);
        }
        if (maxSamples < 1) {
            throw new IllegalArgumentException("max samples: expected >= 1, got " + maxSamples);
        }
        this.secondsPerCase = secondsPerCase;
        this.maxSamples = maxSamples;
        this.warmup = warmup;
    }

    public List<BenchResult> run(List<BenchPlan.Case> cases, PrintStream progress) {
        List<BenchResult> results = new ArrayList<>();
        int i = 0;
        for (BenchPlan.Case c : cases) {
            i++;
            progress.printf("[%d/%d] %s %s %s threads=%d ... ", i, cases.size(), c.workload().name(),
                    c.backend().label(), c.mode(), c.threads());
            progress.flush();
            Measured m = measure(c);
            progress.printf("%.2f ms (warm-up %.1f s%s)%n", m.result().medianMs(), m.warmup().seconds(),
                    m.warmup().settled() ? "" : ", the JIT still compiling at its end");
            results.add(m.result());
        }
        return results;
    }

    /** A case's result and its warm-up. */
    public record Measured(BenchResult result, JitWarmup.Result warmup) {}

    public Measured measure(BenchPlan.Case c) {
        try (BenchCase bc = new BenchCase(c.workload(), c.backend(), c.mode(), c.threads())) {
            double[] sink = {0};
            JitWarmup.Result warmup = warmUp(() -> sink[0] += bc.step());
            long budget = (long) (secondsPerCase * 1e9);
            double[] ms = new double[maxSamples];
            int n = 0;
            long end = System.nanoTime() + budget;
            while (n < maxSamples && (n < 3 || System.nanoTime() < end)) {
                long t0 = System.nanoTime();
                sink[0] += bc.step();
                ms[n++] = (System.nanoTime() - t0) / 1e6;
            }
            if (Double.isNaN(sink[0])) {
                progress("(a step produced NaN)");
            }
            double[] s = Arrays.copyOf(ms, n);
            Arrays.sort(s);
            double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
            BenchResult r = BenchResult.of(c.workload(), c.backend().label(), c.mode(), c.threads(), median, s[0], n);
            return new Measured(r, warmup);
        }
    }

    /** The JIT warm-up, or without a JIT clock a third of the budget of timed steps (at least one step). */
    JitWarmup.Result warmUp(Runnable step) {
        if (warmup.hasJitClock()) {
            return warmup.run(step);
        }
        long start = System.nanoTime();
        long end = start + (long) (secondsPerCase * 1e9 / 3);
        int steps = 0;
        while (steps < 1 || System.nanoTime() < end) {
            step.run();
            steps++;
        }
        return new JitWarmup.Result((System.nanoTime() - start) / 1e9, steps, false);
    }

    private static void progress(String s) {
        System.err.print(s);
    }
}
