package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link StepScheduler}: every step of every recurrence runs exactly once, in order, each step seeing what the one
 * before it wrote (plain fields, whichever thread ran it); a thread whose home recurrences are done takes steps of a
 * slower thread's; a failing step is rethrown and stops the rest.
 */
class StepSchedulerTest {

    /** A recurrence whose state is a plain field: step s checks that step s - 1 ran, on whatever thread. */
    private static final class Counting implements StepScheduler.Recurrence {
        private int done; // plain on purpose: the scheduler's claim and release must order it
        private final long nanosPerStep;
        private final Set<String> threads = ConcurrentHashMap.newKeySet();
        private final ConcurrentHashMap<String, Integer> stepsByThread = new ConcurrentHashMap<>();
        private final AtomicInteger outOfOrder = new AtomicInteger();

        Counting(long nanosPerStep) {
            this.nanosPerStep = nanosPerStep;
        }

        @Override
        public void step(int s) {
            if (done != s) {
                outOfOrder.incrementAndGet();
            }
            threads.add(Thread.currentThread().getName());
            stepsByThread.merge(Thread.currentThread().getName(), 1, Integer::sum);
            long end = System.nanoTime() + nanosPerStep;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            done = s + 1;
        }
    }

    @Test
    void everyStepRunsOnceInOrder() {
        Set<String> ran = ConcurrentHashMap.newKeySet();
        try (CpuThreads threads = new CpuThreads(3)) {
            for (int round = 0; round < 200; round++) {
                Counting[] r = new Counting[5];
                for (int k = 0; k < r.length; k++) r[k] = new Counting(2_000);
                StepScheduler.run(threads, 3, r, new int[] {0, 0, 1, 1, 2}, 40, ran);
                for (int k = 0; k < r.length; k++) {
                    assertEquals(40, r[k].done, "round " + round + ", recurrence " + k + ": steps run");
                    assertEquals(0, r[k].outOfOrder.get(), "round " + round + ", recurrence " + k + ": out of order");
                }
            }
        }
        assertTrue(ran.size() <= 3, ran.toString());
    }

    /**
     * The calling thread's one recurrence is short, the worker's two are long (50 steps of 200 us each): the caller,
     * done early, must take steps of the worker's. Every round must show it on them, and in the best of 8 rounds it
     * must have taken at least a fifth of their 100 steps (about half once the worker is started and the loop
     * compiled; a step count, not a time, so that a busy machine does not fail it).
     */
    @Test
    void aThreadDoneWithItsOwnTakesTheOthersSteps() {
        Set<String> ran = ConcurrentHashMap.newKeySet();
        String caller = Thread.currentThread().getName();
        int mostTaken = 0;
        try (CpuThreads threads = new CpuThreads(2)) {
            for (int round = 0; round < 8; round++) {
                Counting quick = new Counting(0);
                Counting slowA = new Counting(200_000);
                Counting slowB = new Counting(200_000);
                StepScheduler.run(threads, 2, new Counting[] {quick, slowA, slowB}, new int[] {0, 1, 1}, 50, ran);
                int taken = slowA.stepsByThread.getOrDefault(caller, 0) + slowB.stepsByThread.getOrDefault(caller, 0);
                mostTaken = Math.max(mostTaken, taken);
                assertTrue(taken > 0, "round " + round + ": no step of the worker's recurrences ran on the caller: "
                        + slowA.stepsByThread + ", " + slowB.stepsByThread);
                assertEquals(0, slowA.outOfOrder.get() + slowB.outOfOrder.get(), "round " + round + ": order");
                assertEquals(50, slowA.done, "round " + round + ": steps run");
                assertEquals(50, slowB.done, "round " + round + ": steps run");
            }
        }
        assertTrue(mostTaken >= 20, "the caller took at most " + mostTaken + " of the worker's 100 steps");
    }

    @Test
    void aFailingStepIsRethrownAndStopsTheRest() {
        try (CpuThreads threads = new CpuThreads(2)) {
            IllegalStateException boom = new IllegalStateException("step 3 failed");
            AtomicInteger after = new AtomicInteger();
            StepScheduler.Recurrence failing = s -> {
                if (s == 3) throw boom;
            };
            StepScheduler.Recurrence other = s -> {
                if (s > 30) after.incrementAndGet(); // the other thread stops soon after the failure
                long end = System.nanoTime() + 100_000;
                while (System.nanoTime() < end) Thread.onSpinWait();
            };
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> StepScheduler.run(threads,
                    2, new StepScheduler.Recurrence[] {failing, other}, new int[] {0, 1}, 1_000,
                    ConcurrentHashMap.newKeySet()));
            assertSame(boom, thrown);
            assertEquals(0, after.get(), "steps ran long after the failure");
            // the threads serve the next call
            Counting ok = new Counting(0);
            StepScheduler.run(threads, 2, new Counting[] {ok, new Counting(0)}, new int[] {0, 1}, 10,
                    ConcurrentHashMap.newKeySet());
            assertEquals(10, ok.done);
        }
    }
}
