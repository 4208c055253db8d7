package dev.lstm4j.cpu;

import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads of one {@link FastCpuBackend}: the calling thread plus threads - 1 daemon workers, created on first
 * need ({@link SpinningWorkers}). OpenBLAS runs single-threaded inside each part, so every thread computing for the
 * backend is one of these.
 */
final class CpuThreads implements AutoCloseable {
    private final int threads;
    private SpinningWorkers workers;
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
        SpinningWorkers pool = workers();
        Finished others = new Finished(parts - 1);
        for (int k = 1; k < parts; k++) {
            int part = k;
            pool.execute(() -> others.run(() -> {
                ran.add(Thread.currentThread().getName());
                body.accept(part);
            }));
        }
        try {
            ran.add(Thread.currentThread().getName());
            body.accept(0);
        } finally {
            // the parts share the call's buffers: the call must not end while one still runs
            others.await();
        }
        rethrow(others.failure);
    }

    /**
     * Counts the parts run on workers as they end, keeps the first failure, and lets the calling thread wait for
     * them all: spinning ({@link Backoff#spin}), then parked until the last part wakes it.
     */
    private static final class Finished {
        private final AtomicInteger left;
        private final Thread waiter = Thread.currentThread();
        private volatile boolean waiterParked;
        private volatile Throwable failure;

        Finished(int parts) {
            this.left = new AtomicInteger(parts);
        }

        void run(Runnable part) {
            try {
                part.run();
            } catch (Throwable e) {
                if (failure == null) failure = e;
            } finally {
                if (left.decrementAndGet() == 0 && waiterParked) LockSupport.unpark(waiter);
            }
        }

        /** Waits for every part, through interrupts (this thread's interrupt status is kept). */
        void await() {
            long since = System.nanoTime();
            while (left.get() > 0) {
                if (!Backoff.spin(since)) {
                    waiterParked = true;
                    if (left.get() > 0) LockSupport.park(this);
                    waiterParked = false;
                }
            }
        }
    }

    /** A part's failure to the caller: unchecked ones as they are, others wrapped; nothing for null. */
    private static void rethrow(Throwable e) {
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException("a part of the LSTM's work failed: " + e, e);
    }

    /**
     * A team for many short parallel steps in a row (the per-step GEMM of a recurrence): {@code parts - 1} workers
     * stay with the team between steps instead of going back to the workers' queue, so a step's handoff costs a
     * cache line (measured with a step per {@link #parallel} call through an executor, a thread wake-up each: at
     * ptb-small, 2 threads were slower than 1).
     *
     * <p>A step's parts are claimed, not assigned: the caller and whichever workers are awake take parts from a
     * counter until none are left, so a worker that the OS has not scheduled costs nothing but its share of
     * parallelism; the caller never waits for a worker that has not started. A waiting worker spins, then yields,
     * then parks until the next step ({@link Backoff#spinOrYield}). (With parts assigned to threads and spinning, a
     * build running beside ptb-small made 2 threads take 7.8 to 43 ms per step, against 5.6 on one.) Close the
     * team when the recurrence ends; open it on a thread that is not a worker.
     */
    Team team(int parts, Set<String> ran) {
        if (parts < 2 || parts > threads) {
            throw new IllegalStateException("team: " + parts + " parts for " + threads + " threads");
        }
        return new Team(parts, ran);
    }

    final class Team implements AutoCloseable {
        private final int parts;
        private final Set<String> ran;
        private final Finished members;
        private final Thread leader;
        private final Thread[] memberThreads;
        /** 1 while a member is parked (set before its last check of generation, so that run() can wake it). */
        private final AtomicIntegerArray parked;
        private volatile boolean leaderParked;
        /*
         * A step: body, then next and done reset, then generation bumped (all volatile). A part is claimed by
         * next.getAndIncrement() < parts and body is read after the claim: it is this step's body, since body
         * changes only after every claimed part of the step is done.
         */
        private volatile IntConsumer body;
        private final AtomicInteger next = new AtomicInteger(Integer.MAX_VALUE);
        private final AtomicInteger done = new AtomicInteger();
        private volatile long generation;
        private volatile boolean stopping;
        private volatile Throwable failure;

        private Team(int parts, Set<String> ran) {
            this.parts = parts;
            this.ran = ran;
            this.members = new Finished(parts - 1);
            this.leader = Thread.currentThread();
            this.memberThreads = new Thread[parts];
            this.parked = new AtomicIntegerArray(parts);
            SpinningWorkers pool = workers();
            CountDownLatch started = new CountDownLatch(parts - 1);
            for (int k = 1; k < parts; k++) {
                int member = k;
                pool.execute(() -> members.run(() -> {
                    memberThreads[member] = Thread.currentThread();
                    started.countDown();
                    member(member);
                }));
            }
            try {
                started.await(); // memberThreads are all set after this (countDown happens-before await's return)
            } catch (InterruptedException e) {
                close();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the LSTM's worker threads", e);
            }
        }

        private void member(int me) {
            long seen = 0;
            while (true) {
                long since = System.nanoTime();
                while (generation == seen && !stopping) {
                    if (!Backoff.spinOrYield(since)) {
                        parked.set(me, 1);
                        if (generation == seen && !stopping) LockSupport.park(this);
                        parked.set(me, 0);
                    }
                }
                if (stopping) return;
                seen = generation;
                claimParts();
            }
        }

        /** Runs parts until none is left to claim; true if this thread ran at least one. */
        private boolean claimParts() {
            boolean any = false;
            int q;
            while ((q = next.getAndIncrement()) < parts) {
                if (!any) ran.add(Thread.currentThread().getName());
                any = true;
                try {
                    body.accept(q);
                } catch (Throwable e) {
                    failure = e;
                }
                if (done.incrementAndGet() == parts && leaderParked) {
                    LockSupport.unpark(leader);
                }
            }
            return any;
        }

        int parts() {
            return parts;
        }

        /** Runs body(0..parts-1) on this thread and whichever workers are ready, and waits for all. */
        void run(IntConsumer step) {
            failure = null;
            body = step;
            done.set(0);
            next.set(0);
            generation++;
            for (int k = 1; k < parts; k++) {
                if (parked.get(k) == 1) LockSupport.unpark(memberThreads[k]);
            }
            claimParts();
            long since = System.nanoTime();
            while (done.get() < parts) { // a member is finishing a part it claimed
                if (!Backoff.spinOrYield(since)) {
                    leaderParked = true;
                    if (done.get() < parts) LockSupport.park(this);
                    leaderParked = false;
                }
            }
            rethrow(failure);
        }

        /** Stops the workers and waits for them. */
        @Override
        public void close() {
            stopping = true;
            for (int k = 1; k < parts; k++) {
                Thread t = memberThreads[k];
                if (t != null) LockSupport.unpark(t);
            }
            members.await();
        }
    }

    /** The threads: the caller and the workers. */
    int threads() {
        return threads;
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

    private synchronized SpinningWorkers workers() {
        if (closed) {
            throw new IllegalStateException("fast CPU backend: used after close");
        }
        if (workers == null) {
            workers = new SpinningWorkers(threads - 1, "lstm4j-cpu-");
        }
        return workers;
    }

    /** Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (workers != null) {
            workers.close();
            workers = null;
        }
    }
}
