package dev.lstm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The quick benchmark's warm-up: until the JIT's compilation time has stopped growing for the quiet period, after at
 * least 3 steps, at most the cap. Driven by a fake JIT clock that the steps advance; times are real, so the
 * assertions leave room for a slow machine where they bound from above.
 */
class QuickBenchTest {
    static final double QUIET = 0.05;
    static final double CAP = 0.5;

    private static void pause() {
        LockSupport.parkNanos(2_000_000); // a 2 ms step
    }

    @Test
    void endsOnceTheJitHasBeenQuietForThePeriod() {
        AtomicLong jit = new AtomicLong();
        int[] steps = {0};
        QuickBench q = new QuickBench(0.1, 5, QUIET, CAP, jit::get);
        QuickBench.Warmup w = q.warmUp(() -> {
            pause();
            if (++steps[0] <= 20) jit.addAndGet(3); // compiling during the first 20 steps
        });
        assertTrue(w.settled(), w.toString());
        assertTrue(w.steps() > 20, "it waits for the compilations: " + w);
        assertTrue(w.seconds() >= 20 * 0.002 + QUIET, "20 compiling steps, then the quiet period: " + w);
        assertTrue(w.seconds() < CAP, w.toString());
        assertEquals(steps[0], w.steps());
    }

    @Test
    void stopsAtTheCapWhileTheJitKeepsCompilingAndSaysSo() {
        AtomicLong jit = new AtomicLong();
        QuickBench q = new QuickBench(0.1, 5, QUIET, CAP, jit::get);
        QuickBench.Warmup w = q.warmUp(() -> {
            pause();
            jit.incrementAndGet();
        });
        assertFalse(w.settled(), w.toString());
        assertTrue(w.seconds() >= CAP, w.toString());
    }

    @Test
    void takesAtLeastThreeStepsEvenWhenTheJitIsQuiet() {
        QuickBench q = new QuickBench(0.1, 5, 0.001, CAP, () -> 42);
        int[] steps = {0};
        QuickBench.Warmup w = q.warmUp(() -> {
            pause();
            steps[0]++;
        });
        assertTrue(w.settled());
        assertEquals(3, w.steps());
        assertEquals(3, steps[0]);
    }

    @Test
    void withoutAJitClockWarmsUpForAThirdOfTheBudget() {
        QuickBench q = new QuickBench(0.3, 5, QUIET, CAP, null);
        QuickBench.Warmup w = q.warmUp(QuickBenchTest::pause);
        assertFalse(w.settled(), "nothing says the JIT is done");
        assertTrue(w.seconds() >= 0.1, w.toString());
    }

    @Test
    void refusesBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new QuickBench(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new QuickBench(0.1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QuickBench(0.1, 5, 1, 0.5, () -> 0));
        assertEquals("warm-up: expected 0 < quiet seconds <= max seconds, got 1.0 and 0.5", e.getMessage());
    }
}
