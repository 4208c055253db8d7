package dev.lstm4j.cpu;

import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The threads of one {@link FastCpuBackend}: the calling thread plus threads - 1 daemon workers, created on first
 * need. OpenBLAS runs single-threaded inside each part, so every thread computing for the backend is one of these.
 */
final class CpuThreads implements AutoCloseable {
    private final int threads;
    private ExecutorService workers;
    private boolean closed;

    CpuThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        this.threads = threads;
    }

    /** Runs body(0..parts-1), part 0 on the calling thread and the others on the workers, and waits for all. */
    void parallel(int parts, IntConsumer body, Set<String> ran) {
        if (parts > threads) {
            throw new IllegalStateException("parallel: " + parts + " parts for " + threads + " threads");
        }
        if (parts == 1) {
            ran.add(Thread.currentThread().getName());
            body.accept(0);
            return;
        }
        ExecutorService pool = workers();
        Future<?>[] pending = new Future<?>[parts - 1];
        try {
            for (int k = 1; k < parts; k++) {
                int part = k;
                pending[k - 1] = pool.submit(() -> {
                    ran.add(Thread.currentThread().getName());
                    body.accept(part);
                });
            }
            ran.add(Thread.currentThread().getName());
            body.accept(0);
        } finally {
            RuntimeException first = null;
            for (Future<?> f : pending) {
                if (f == null) continue;
                try {
                    waitFor(f);
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            if (first != null) throw first;
        }
    }

    /**
     * A team for many short parallel steps in a row (the per-step GEMM of a recurrence): {@code parts - 1} workers
     * stay on a spin-wait between steps instead of going back to the executor, so a step's handoff costs a cache
     * line, not a thread wake-up (measured with the executor: at ptb-small, 2 threads were slower than 1). Close it
     * when the recurrence ends; it must be opened on a thread that is not one of the workers.
     */
    Team team(int parts, Set<String> ran) {
        if (parts < 2 || parts > threads) {
            throw new IllegalStateException("team: " + parts + " parts for " + threads + " threads");
        }
        return new Team(parts, ran);
    }

    final class Team implements AutoCloseable {
        private final int parts;
        private final Future<?>[] members;
        private volatile IntConsumer body;
        private volatile long generation;     // bumped once per step; workers run when it changes
        private volatile boolean stopping;
        private final AtomicInteger finished = new AtomicInteger();
        private volatile Throwable failure;

        private Team(int parts, Set<String> ran) {
            this.parts = parts;
            this.members = new Future<?>[parts - 1];
            ran.add(Thread.currentThread().getName());
            ExecutorService pool = workers();
            for (int k = 1; k < parts; k++) {
                int part = k;
                members[k - 1] = pool.submit(() -> {
                    ran.add(Thread.currentThread().getName());
                    member(part);
                });
            }
        }

        private void member(int part) {
            long seen = 0;
            while (true) {
                int spins = 0;
                while (generation == seen && !stopping) {
                    if (++spins < 1 << 14) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield(); // the machine is busy: let others run, stay ready
                    }
                }
                if (stopping) return;
                seen = generation;
                try {
                    body.accept(part);
                } catch (Throwable e) {
                    failure = e;
                }
                finished.incrementAndGet();
            }
        }

        /** Runs body(0..parts-1), part 0 here, and waits for all. */
        void run(IntConsumer step) {
            finished.set(0);
            body = step;
            generation++;
            Throwable mine = null;
            try {
                step.accept(0);
            } catch (Throwable e) {
                mine = e;
            }
            int spins = 0;
            while (finished.get() < parts - 1) {
                if (++spins < 1 << 14) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable e = mine != null ? mine : failure;
            if (e instanceof RuntimeException re) throw re;
            if (e instanceof Error err) throw err;
            if (e != null) throw new IllegalStateException("a part of the LSTM's work failed: " + e, e);
        }

        /** Stops the workers and waits for them. */
        @Override
        public void close() {
            stopping = true;
            for (Future<?> f : members) waitFor(f);
        }
    }

    /** Parts for splitting {@code total} rows: one per thread, at least 16 rows each. */
    int partsFor(int total) {
        return Math.max(1, Math.min(threads, total / 16));
    }

    /** Start of part k of n over 0..total, cut at multiples of 16 where possible (whole cache lines and vectors). */
    static int cut(int total, int parts, int k) {
        if (k >= parts) return total;
        int raw = (int) ((long) total * k / parts);
        return total >= 16 * parts ? raw / 16 * 16 : raw;
    }

    private synchronized ExecutorService workers() {
        if (closed) {
            throw new IllegalStateException("fast CPU backend: used after close");
        }
        if (workers == null) {
            AtomicInteger n = new AtomicInteger();
            workers = Executors.newFixedThreadPool(threads - 1, r -> {
                Thread t = new Thread(r, "lstm4j-cpu-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return workers;
    }

    private static void waitFor(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a part of the LSTM's work", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException("a part of the LSTM's work failed: " + c, c);
        }
    }

    /** Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (workers != null) {
            workers.shutdownNow();
            workers = null;
        }
    }
}
