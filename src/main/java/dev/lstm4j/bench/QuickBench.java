package dev.lstm4j.bench;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A short benchmark without JMH (for {@code lstm4j bench --quick}): per case, warm-up steps until the JIT has gone
 * quiet, then timed steps until a time budget or a sample count is reached, and the median. A first look, not a
 * measurement to publish: nothing isolates the run from other processes. The JMH suite (benchmarks/) is the
 * reference.
 *
 * <p>Why the JIT, not a share of the budget: the fast CPU backend's Vector API kernels run as heap objects until C2
 * has compiled them, which on 2 cores takes seconds; warming up for a third of 0.6 s measured seed-mnist inference
 * at 58.7 ms, against 4-5 in steady state. Warm-up now runs until no compilation has finished for
 * {@code quietSeconds} (the JVM's own count of its compilation time stops growing), after at least 3 steps, and at
 * most {@code maxWarmupSeconds}; the progress line says how long it took, and when the JIT was still busy at the
 * cap.
 */
public final class QuickBench {
    /** Defaults for {@code lstm4j bench}: half a second without a compilation, at most 30 s per case. */
    public static final double QUIET_SECONDS = 0.5;
    public static final double MAX_WARMUP_SECONDS = 30;

    private final double secondsPerCase;
    private final int maxSamples;
    private final double quietSeconds;
    private final double maxWarmupSeconds;
    /** Milliseconds the JIT has spent so far, or null where the JVM does not count them. */
    private final LongSupplier compilationMillis;

    /** @param secondsPerCase time budget of the timed steps of one case, > 0 */
    public QuickBench(double secondsPerCase, int maxSamples) {
        this(secondsPerCase, maxSamples, QUIET_SECONDS, MAX_WARMUP_SECONDS, jitClock());
    }

    /**
     * @param compilationMillis the JIT's total compilation time in ms so far (tests pass their own), or null: then
     *                          warm-up is a third of {@code secondsPerCase}
     */
    QuickBench(double secondsPerCase, int maxSamples, double quietSeconds, double maxWarmupSeconds,
               LongSupplier compilationMillis) {
        if (!(secondsPerCase > 0)) {
            throw new IllegalArgumentException("seconds per case: expected > 0, got " + secondsPerCase);
        }
        if (maxSamples < 1) {
            throw new IllegalArgumentException("max samples: expected >= 1, got " + maxSamples);
        }
        if (!(quietSeconds > 0) || !(maxWarmupSeconds >= quietSeconds)) {
            throw new IllegalArgumentException("warm-up: expected 0 < quiet seconds <= max seconds, got " + quietSeconds
                    + " and " + maxWarmupSeconds);
        }
        this.secondsPerCase = secondsPerCase;
        this.maxSamples = maxSamples;
        this.quietSeconds = quietSeconds;
        this.maxWarmupSeconds = maxWarmupSeconds;
        this.compilationMillis = compilationMillis;
    }

    private static LongSupplier jitClock() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null;
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

    /** How a case's warm-up ended: after how long, and whether the JIT had gone quiet. */
    public record Warmup(double seconds, int steps, boolean settled) {}

    /** A case's result and its warm-up. */
    public record Measured(BenchResult result, Warmup warmup) {}

    public Measured measure(BenchPlan.Case c) {
        try (BenchCase bc = new BenchCase(c.workload(), c.backend(), c.mode(), c.threads())) {
            double[] sink = {0};
            Warmup warmup = warmUp(() -> sink[0] += bc.step());
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

    /** Runs {@code step} until the JIT has been quiet for quietSeconds after at least 3 steps, or the cap. */
    Warmup warmUp(Runnable step) {
        long start = System.nanoTime();
        if (compilationMillis == null) { // no JIT clock: a third of the budget, as a fixed share
            long end = start + (long) (secondsPerCase * 1e9 / 3);
            int steps = 0;
            while (steps < 1 || System.nanoTime() < end) {
                step.run();
                steps++;
            }
            return new Warmup((System.nanoTime() - start) / 1e9, steps, false);
        }
        long quiet = (long) (quietSeconds * 1e9);
        long cap = start + (long) (maxWarmupSeconds * 1e9);
        long compiled = compilationMillis.getAsLong();
        long lastChange = start;
        int steps = 0;
        while (true) {
            step.run();
            steps++;
            long now = System.nanoTime();
            long c = compilationMillis.getAsLong();
            if (c != compiled) {
                compiled = c;
                lastChange = now;
            }
            if (steps >= 3 && now - lastChange >= quiet) {
                return new Warmup((now - start) / 1e9, steps, true);
            }
            if (now >= cap) {
                return new Warmup((now - start) / 1e9, steps, false);
            }
        }
    }

    private static void progress(String s) {
        System.err.print(s);
    }
}
