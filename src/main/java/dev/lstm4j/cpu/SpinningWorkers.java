package dev.lstm4j.cpu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Daemon threads that run tasks in the order they were given, for {@link CpuThreads}. A worker with nothing to do
 * spins for {@link Backoff#SPIN_NANOS}, looking for a task, before it parks: the parallel parts of one LSTM call
 * come tens of microseconds apart, and on this project's VMs a task handed to a parked thread (an executor's) started
 * about 40 us late (a 2-part {@code parallel} of 20 us parts took 41-55 us more than its parts, median, whatever the
 * pause between calls).
 */
final class SpinningWorkers implements AutoCloseable {
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread[] threads;
    /** 1 while worker i is parked or about to park (set before its last look at the queue). */
    private final AtomicIntegerArray parked;
    private volatile boolean closed;

    /** Starts count workers named namePrefix1, namePrefix2, ... */
    SpinningWorkers(int count, String namePrefix) {
        if (count < 1) {
            throw new IllegalArgumentException("count: expected >= 1 workers, got " + count);
        }
        threads = new Thread[count];
        parked = new AtomicIntegerArray(count);
        for (int i = 0; i < count; i++) {
            int me = i;
            Thread t = new Thread(() -> work(me), namePrefix + (i + 1));
            t.setDaemon(true);
            threads[i] = t;
        }
        for (Thread t : threads) t.start();
    }

    /**
     * Queues the task for the first worker free to take it, waking a parked one. A task must report its own
     * failures: one that throws goes to its worker's uncaught-exception handler, and the worker goes on.
     */
    void execute(Runnable task) {
        if (closed) {
            throw new IllegalStateException("fast CPU backend: used after close");
        }
        tasks.add(task);
        // the queue is written before the flags are read and a worker sets its flag before its last look at the
        // queue, so either the worker sees the task or this sees the flag
        for (int i = 0; i < threads.length; i++) {
            if (parked.get(i) == 1 && parked.compareAndSet(i, 1, 0)) {
                LockSupport.unpark(threads[i]);
                return;
            }
        }
    }

    private void work(int me) {
        while (true) {
            Runnable task = tasks.poll();
            if (task != null) {
                try {
                    task.run();
                } catch (Throwable e) {
                    Thread t = Thread.currentThread();
                    t.getUncaughtExceptionHandler().uncaughtException(t, e);
                }
                continue;
            }
            if (closed) return;
            long since = System.nanoTime();
            while (tasks.isEmpty() && !closed) {
                if (!Backoff.spin(since)) {
                    parked.set(me, 1);
                    if (tasks.isEmpty() && !closed) LockSupport.park(this);
                    parked.set(me, 0);
                }
            }
        }
    }

    /** Lets each worker finish the tasks already queued and stop; a later {@link #execute} throws. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) LockSupport.unpark(t);
    }
}
