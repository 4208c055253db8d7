package dev.lstm4j.cpu;

import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The progress of the stages of a pipeline (one stage per LSTM layer): how many steps each stage has finished, so
 * that a stage can wait for the step it needs from its neighbour; and the first failure, so that no stage waits
 * for a neighbour that has died.
 */
final class StageProgress {
    /** How long a waiting stage sleeps between looks once it has waited {@link Backoff#YIELD_NANOS}. */
    private static final long PARK_NANOS = 20_000;

    private final AtomicIntegerArray finished;
    private volatile Throwable failure;

    StageProgress(int stages) {
        this.finished = new AtomicIntegerArray(stages);
    }

    /**
     * Runs stage(0..stages-1) on min(threads, stages) threads, stage l on thread l mod that count, each thread its
     * stages in increasing order; waits for all. A stage waits only for a stage on another thread or one its own
     * thread ran before, so the pipeline cannot deadlock. The first stage to fail is rethrown.
     */
    void run(CpuThreads pool, int threads, int stages, IntConsumer stage, Set<String> ran) {
        int lanes = Math.min(threads, stages);
        try {
            pool.parallel(lanes, q -> {
                for (int l = q; l < stages; l += lanes) {
                    try {
                        stage.accept(l);
                    } catch (Throwable e) {
                        if (failure == null) failure = e;
                        throw e;
                    }
                }
            }, ran);
        } catch (RuntimeException | Error e) {
            Throwable root = failure;
            if (root == e) throw e;
            if (root instanceof RuntimeException re) throw re;
            if (root instanceof Error err) throw err;
            throw e;
        }
    }

    /** Stage l has finished its first {@code steps} steps (its writes so far are visible to whoever awaits them). */
    void finished(int stage, int steps) {
        finished.setRelease(stage, steps);
    }

    /** Waits until stage l has finished {@code steps} steps; throws if a stage has failed meanwhile. */
    void await(int stage, int steps) {
        if (finished.getAcquire(stage) >= steps) return;
        long since = System.nanoTime();
        while (finished.getAcquire(stage) < steps) {
            if (failure != null) {
                throw new IllegalStateException("pipeline stage " + stage + " failed: " + failure, failure);
            }
            if (!Backoff.spinOrYield(since)) {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
    }
}
