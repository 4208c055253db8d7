package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The workers behind {@link CpuThreads}: no task is lost or run twice, whether a worker was spinning, parked or busy
 * when it came (the hand-off between a worker's last look at the queue and its park is where a task could be lost),
 * and a task that throws does not take its worker down.
 */
class SpinningWorkersTest {

    @Test
    void everyTaskRunsExactlyOnceFromManySubmitters() throws InterruptedException {
        int submitters = 3;
        int perSubmitter = 20_000;
        AtomicIntegerArray runs = new AtomicIntegerArray(submitters * perSubmitter);
        CountDownLatch done = new CountDownLatch(submitters * perSubmitter);
        try (SpinningWorkers workers = new SpinningWorkers(2, "test-worker-")) {
            Thread[] threads = new Thread[submitters];
            for (int s = 0; s < submitters; s++) {
                int base = s * perSubmitter;
                threads[s] = new Thread(() -> {
                    for (int i = 0; i < perSubmitter; i++) {
                        int task = base + i;
                        workers.execute(() -> {
                            runs.incrementAndGet(task);
                            done.countDown();
                        });
                        if (i % 2_000 == 0) sleepMillis(1); // let the workers spin out and park
                    }
                });
                threads[s].start();
            }
            for (Thread t : threads) t.join();
            assertTrue(done.await(30, TimeUnit.SECONDS), done.getCount() + " tasks never ran");
        }
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "task " + i);
    }

    @Test
    void aTaskAfterALongPauseWakesAParkedWorker() throws InterruptedException {
        try (SpinningWorkers workers = new SpinningWorkers(1, "test-worker-")) {
            for (int round = 0; round < 20; round++) {
                sleepMillis(2); // 40 times the spin: the worker is parked
                CountDownLatch ran = new CountDownLatch(1);
                workers.execute(ran::countDown);
                assertTrue(ran.await(10, TimeUnit.SECONDS), "round " + round + ": the parked worker never woke");
            }
        }
    }

    @Test
    void aThrowingTaskGoesToTheHandlerAndTheWorkerGoesOn() throws InterruptedException {
        AtomicReference<Throwable> reported = new AtomicReference<>();
        RuntimeException boom = new RuntimeException("task failed");
        try (SpinningWorkers workers = new SpinningWorkers(1, "test-worker-")) {
            CountDownLatch handlerSet = new CountDownLatch(1);
            workers.execute(() -> {
                Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.set(e));
                handlerSet.countDown();
            });
            assertTrue(handlerSet.await(10, TimeUnit.SECONDS));
            workers.execute(() -> {
                throw boom;
            });
            AtomicInteger after = new AtomicInteger();
            CountDownLatch ran = new CountDownLatch(1);
            workers.execute(() -> {
                after.incrementAndGet();
                ran.countDown();
            });
            assertTrue(ran.await(10, TimeUnit.SECONDS), "the worker stopped after a task threw");
            assertEquals(1, after.get());
            assertSame(boom, reported.get());
        }
    }

    @Test
    void closeRefusesNewTasksAndLetsQueuedOnesFinish() throws InterruptedException {
        SpinningWorkers workers = new SpinningWorkers(1, "test-worker-");
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(1);
        workers.execute(() -> awaitQuietly(release));
        workers.execute(second::countDown); // queued behind the first
        workers.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> workers.execute(() -> { }));
        assertTrue(e.getMessage().contains("after close"), e.getMessage());
        release.countDown();
        assertTrue(second.await(10, TimeUnit.SECONDS), "a task queued before close never ran");
    }

    @Test
    void needsAtLeastOneWorker() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SpinningWorkers(0, "test-worker-"));
        assertTrue(e.getMessage().contains("count: expected >= 1 workers, got 0"), e.getMessage());
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
