package dev.lstm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The warm-up: until the JIT's compilation time has stopped growing for the quiet period, after at least the
 * minimum of runs, at most the cap. Driven by a fake JIT clock that the steps advance; times are real, so the
 * assertions leave room for a slow machine where they bound from above.
 */
class JitWarmupTest {
    static final double QUIET = 0.05;
    static final double CAP = 0.5;

    /** A 2 ms step (QuickBenchTest's too). */
    static void pause() {
        LockSupport.parkNanos(2_000_000);
    }

    @Test
    void endsOnceTheJitHasBeenQuietForThePeriod() {
        AtomicLong jit = new AtomicLong();
        int[] steps = {0};
        JitWarmup.Result w = new JitWarmup(QUIET, CAP, 3, jit::get).run(() -> {
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
        JitWarmup.Result w = new JitWarmup(QUIET, CAP, 3, jit::get).run(() -> {
            pause();
            jit.incrementAndGet();
        });
        assertFalse(w.settled(), w.toString());
        assertTrue(w.seconds() >= CAP, w.toString());
    }

    @Test
    void takesTheMinimumOfRunsEvenWhenTheJitIsQuiet() {
        for (int min : new int[] {1, 3}) {
            int[] steps = {0};
            JitWarmup.Result w = new JitWarmup(0.001, CAP, min, () -> 42).run(() -> {
                pause();
                steps[0]++;
            });
            assertTrue(w.settled());
            assertEquals(min, w.steps());
            assertEquals(min, steps[0]);
        }
    }

    @Test
    void aRunLongerThanTheCapEndsItAfterTheMinimum() {
        AtomicLong jit = new AtomicLong();
        JitWarmup.Result w = new JitWarmup(0.01, 0.02, 1, jit::get).run(() -> {
            LockSupport.parkNanos(50_000_000); // one 50 ms run, compiling
            jit.incrementAndGet();
        });
        assertEquals(1, w.steps());
        assertFalse(w.settled());
    }

    @Test
    void withoutAJitClockTakesTheMinimumAndCannotSayItSettled() {
        int[] steps = {0};
        JitWarmup.Result w = new JitWarmup(QUIET, CAP, 2, null).run(() -> steps[0]++);
        assertEquals(2, w.steps());
        assertEquals(2, steps[0]);
        assertFalse(w.settled(), "nothing says the JIT is done");
    }

    @Test
    void refusesBadSettings() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JitWarmup(1, 0.5, 1, () -> 0));
        assertEquals("warm-up: expected 0 < quiet seconds <= max seconds, got 1.0 and 0.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new JitWarmup(QUIET, CAP, 0, () -> 0));
        assertEquals("warm-up: expected at least 1 run, got 0", e.getMessage());
    }
}
