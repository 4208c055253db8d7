package dev.lstm4j.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * Untimed runs of a step until the JIT has gone quiet: until no compilation has finished for {@code quietSeconds}
 * (the JVM's own count of its compilation time stops growing), after at least {@code minSteps} runs, and at most
 * {@code maxSeconds} (checked after each run, so one run longer than that still ends). Why: the fast CPU backend's
 * Vector API kernels run as heap objects until C2 has compiled them, which on 2 cores takes seconds, so a time taken
 * after a fixed count of runs may measure the compiler (seed-mnist inference at 58.7 ms after a third of 0.6 s of
 * warm-up, against 4-5 in steady state).
 */
public final class JitWarmup {
    /** Half a second without a compilation. */
    public static final double QUIET_SECONDS = 0.5;

    /** How a warm-up ended: after how long and how many runs, and whether the JIT had gone quiet by then. */
    public record Result(double seconds, int steps, boolean settled) {}

    private final double quietSeconds;
    private final double maxSeconds;
    private final int minSteps;
    /** Milliseconds the JIT has spent so far, or null where the JVM does not count them. */
    private final LongSupplier compilationMillis;

    /** Quiet for {@link #QUIET_SECONDS}, with this JVM's JIT clock. */
    public JitWarmup(double maxSeconds, int minSteps) {
        this(QUIET_SECONDS, maxSeconds, minSteps, jitClock());
    }

    /**
     * @param compilationMillis the JIT's total compilation time in ms so far (tests pass their own), or null: then
     *                          {@link #run} takes minSteps runs and cannot say that the JIT went quiet
     */
    JitWarmup(double quietSeconds, double maxSeconds, int minSteps, LongSupplier compilationMillis) {
        if (!(quietSeconds > 0) || !(maxSeconds >= quietSeconds)) {
            throw new IllegalArgumentException("warm-up: expected 0 < quiet seconds <= max seconds, got " + quietSeconds
                    + " and " + maxSeconds);
        }
        if (minSteps < 1) {
            throw new IllegalArgumentException("warm-up: expected at least 1 run, got " + minSteps);
        }
        this.quietSeconds = quietSeconds;
        this.maxSeconds = maxSeconds;
        this.minSteps = minSteps;
        this.compilationMillis = compilationMillis;
    }

    /** This JVM's total JIT compilation time in ms, or null where it is not counted. */
    static LongSupplier jitClock() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null;
    }

    /** Whether this warm-up can tell when the JIT has gone quiet. */
    boolean hasJitClock() {
        return compilationMillis != null;
    }

    public Result run(Runnable step) {
        long start = System.nanoTime();
        if (compilationMillis == null) {
            for (int i = 0; i < minSteps; i++) step.run();
            return new Result((System.nanoTime() - start) / 1e9, minSteps, false);
        }
        long quiet = (long) (quietSeconds * 1e9);
        long cap = start + (long) (maxSeconds * 1e9);
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
            if (steps >= minSteps && now - lastChange >= quiet) {
                return new Result((now - start) / 1e9, steps, true);
            }
            if (now >= cap) {
                return new Result((now - start) / 1e9, steps, false);
            }
        }
    }
}
