package dev.lstm4j.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A short benchmark without JMH (for {@code lstm4j bench --quick}): per case, a few warm-up steps, then timed steps
 * until a time budget or a sample count is reached, and the median. A first look, not a measurement to publish: JIT
 * warm-up is short and nothing isolates the run from other processes. The JMH suite (benchmarks/) is the reference.
 */
public final class QuickBench {
    private final double secondsPerCase;
    private final int maxSamples;

    /** @param secondsPerCase time budget of one case (warm-up is a third of it), > 0 */
    public QuickBench(double secondsPerCase, int maxSamples) {
        if (!(secondsPerCase > 0)) {
            throw new IllegalArgumentException("seconds per case: expected > 0, got " + secondsPerCase);
        }
        if (maxSamples < 1) {
            throw new IllegalArgumentException("max samples: expected >= 1, got " + maxSamples);
        }
        this.secondsPerCase = secondsPerCase;
        this.maxSamples = maxSamples;
    }

    public List<BenchResult> run(List<BenchPlan.Case> cases, PrintStream progress) {
        List<BenchResult> results = new ArrayList<>();
        int i = 0;
        for (BenchPlan.Case c : cases) {
            i++;
            progress.printf("[%d/%d] %s %s %s threads=%d ... ", i, cases.size(), c.workload().name(),
                    c.backend().label(), c.mode(), c.threads());
            progress.flush();
            BenchResult r = measure(c);
            progress.printf("%.2f ms%n", r.medianMs());
            results.add(r);
        }
        return results;
    }

    public BenchResult measure(BenchPlan.Case c) {
        try (BenchCase bc = new BenchCase(c.workload(), c.backend(), c.mode(), c.threads())) {
            long budget = (long) (secondsPerCase * 1e9);
            long warmEnd = System.nanoTime() + budget / 3;
            int warm = 0;
            double sink = 0;
            while (warm < 1 || (System.nanoTime() < warmEnd && warm < 4 * maxSamples)) {
                sink += bc.step();
                warm++;
            }
            double[] ms = new double[maxSamples];
            int n = 0;
            long end = System.nanoTime() + budget - budget / 3;
            while (n < maxSamples && (n < 3 || System.nanoTime() < end)) {
                long t0 = System.nanoTime();
                sink += bc.step();
                ms[n++] = (System.nanoTime() - t0) / 1e6;
            }
            if (Double.isNaN(sink)) {
                progress("(a step produced NaN)");
            }
            double[] s = Arrays.copyOf(ms, n);
            Arrays.sort(s);
            double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
            return BenchResult.of(c.workload(), c.backend().label(), c.mode(), c.threads(), median, s[0], n);
        }
    }

    private static void progress(String s) {
        System.err.print(s);
    }
}
