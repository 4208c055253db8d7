package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The per-step team of {@link CpuThreads}: parts are claimed by whichever thread is ready, so what must hold is that
 * every part of every step runs exactly once and the step is over when run() returns, whether the workers were
 * spinning, parked (pauses longer than {@link Backoff#YIELD_NANOS}) or not scheduled at all (3 threads on this
 * 2-core machine).
 */
class CpuThreadsTest {

    @Test
    void everyPartOfEveryStepRunsExactlyOnce() throws InterruptedException {
        Set<String> ran = ConcurrentHashMap.newKeySet();
        try (CpuThreads threads = new CpuThreads(3)) {
            for (int round = 0; round < 2; round++) { // a second team on the same workers after the first closed
                try (CpuThreads.Team team = threads.team(3, ran)) {
                    for (int step = 0; step < 5_000; step++) {
                        AtomicIntegerArray count = new AtomicIntegerArray(3);
                        int[] seen = new int[3]; // plain writes: run() must publish them to this thread
                        team.run(q -> {
                            busy(5_000); // long enough for the workers to claim parts, as in a real step
                            seen[q] = q + 1;
                            count.incrementAndGet(q);
                        });
                        for (int q = 0; q < 3; q++) {
                            assertEquals(1, count.get(q), "step " + step + ", part " + q);
                            assertEquals(q + 1, seen[q], "step " + step + ", part " + q + " not visible");
                        }
                        if (step % 500 == 0) {
                            // members spin, yield and park; the next step must wake or do without them
                            Thread.sleep(Backoff.YIELD_NANOS / 1_000_000 + 2);
                        }
                    }
                }
            }
        }
        assertTrue(ran.contains(Thread.currentThread().getName()), ran.toString());
        assertTrue(ran.size() <= 3, ran.toString());
    }

    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aFailingPartIsRethrownAndTheTeamGoesOn() {
        try (CpuThreads threads = new CpuThreads(2);
             CpuThreads.Team team = threads.team(2, ConcurrentHashMap.newKeySet())) {
            IllegalArgumentException boom = new IllegalArgumentException("part 1");
            for (int step = 0; step < 200; step++) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> team.run(q -> {
                    busy(5_000);
                    if (q == 1) throw boom;
                }));
                assertSame(boom, e);
                AtomicIntegerArray count = new AtomicIntegerArray(2);
                team.run(count::incrementAndGet);
                assertEquals(1, count.get(0));
                assertEquals(1, count.get(1));
            }
        }
    }

    @Test
    void aTeamNeedsAtLeastTwoPartsAndNoMoreThanTheThreads() {
        try (CpuThreads threads = new CpuThreads(2)) {
            assertThrows(IllegalStateException.class, () -> threads.team(1, ConcurrentHashMap.newKeySet()));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> threads.team(3, ConcurrentHashMap.newKeySet()));
            assertTrue(e.getMessage().contains("3 parts for 2 threads"), e.getMessage());
        }
    }

    /**
     * parallel(): every part runs once, part 0 on the calling thread, and all of them have ended (their writes
     * visible) when it returns, whether the workers were spinning from the call before or parked.
     */
    @Test
    void parallelRunsEveryPartOnItsOwnThreadAndWaitsForAll() throws InterruptedException {
        try (CpuThreads threads = new CpuThreads(3)) {
            for (int call = 0; call < 2_000; call++) {
                Set<String> ran = ConcurrentHashMap.newKeySet();
                AtomicIntegerArray count = new AtomicIntegerArray(3);
                int[] seen = new int[3];
                threads.parallel(3, q -> {
                    busy(q == 0 ? 1_000 : 20_000); // the caller's part ends first: it must wait for the others
                    seen[q] = q + 1;
                    count.incrementAndGet(q);
                }, ran);
                for (int q = 0; q < 3; q++) {
                    assertEquals(1, count.get(q), "call " + call + ", part " + q);
                    assertEquals(q + 1, seen[q], "call " + call + ", part " + q + " not visible");
                }
                // this thread and at least one worker (a worker that ends its part before the other wakes may take
                // the third too)
                assertTrue(ran.contains(Thread.currentThread().getName()) && ran.size() >= 2 && ran.size() <= 3,
                        "call " + call + ": threads " + ran);
                if (call % 200 == 0) Thread.sleep(2); // the workers spin out and park between these calls
            }
        }
    }

    @Test
    void parallelRethrowsAFailingPartAfterTheOthersEnd() {
        try (CpuThreads threads = new CpuThreads(2)) {
            IllegalArgumentException boom = new IllegalArgumentException("part 1");
            AtomicIntegerArray ended = new AtomicIntegerArray(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> threads.parallel(2, q -> {
                        if (q == 1) throw boom;
                        busy(20_000);
                        ended.set(0, 1);
                    }, ConcurrentHashMap.newKeySet()));
            assertSame(boom, e);
            assertEquals(1, ended.get(0));
            // a checked exception from a part (sneaked past the lambda) comes wrapped, with the part's as cause
            Exception checked = new java.io.IOException("part 1, checked");
            IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                    () -> threads.parallel(2, q -> {
                        if (q == 1) sneakyThrow(checked);
                    }, ConcurrentHashMap.newKeySet()));
            assertSame(checked, wrapped.getCause());
            AtomicIntegerArray count = new AtomicIntegerArray(2);
            threads.parallel(2, count::incrementAndGet, ConcurrentHashMap.newKeySet()); // the worker goes on
            assertEquals(1, count.get(1));
        }
    }

    /** An interrupt does not cut a call short: its parts share buffers that the next call would overwrite. */
    @Test
    void parallelWaitsForEveryPartThroughAnInterruptAndKeepsIt() {
        try (CpuThreads threads = new CpuThreads(2)) {
            AtomicIntegerArray ended = new AtomicIntegerArray(1);
            Thread.currentThread().interrupt();
            try {
                threads.parallel(2, q -> {
                    if (q == 1) {
                        busy(200_000); // long past the caller's spin: it parks, and the interrupt wakes it
                        ended.set(0, 1);
                    }
                }, ConcurrentHashMap.newKeySet());
                assertEquals(1, ended.get(0), "parallel returned before part 1 ended");
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status was lost");
            } finally {
                Thread.interrupted();
            }
        }
    }

    @Test
    void parallelAfterCloseIsRefused() {
        CpuThreads threads = new CpuThreads(2);
        threads.parallel(2, q -> { }, ConcurrentHashMap.newKeySet());
        threads.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> threads.parallel(2, q -> { }, ConcurrentHashMap.newKeySet()));
        assertTrue(e.getMessage().contains("after close"), e.getMessage());
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable e) throws E {
        throw (E) e;
    }
}
