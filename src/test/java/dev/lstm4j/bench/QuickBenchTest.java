package dev.lstm4j.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The quick benchmark's warm-up ({@link JitWarmupTest} covers the JIT's part) and settings. */
class QuickBenchTest {
    @Test
    void warmsUpUntilTheJitIsQuiet() {
        AtomicLong jit = new AtomicLong();
        int[] steps = {0};
        QuickBench q = new QuickBench(0.1, 5, new JitWarmup(0.05, 0.5, 3, jit::get));
        JitWarmup.Result w = q.warmUp(() -> {
            JitWarmupTest.pause();
            if (++steps[0] <= 10) jit.incrementAndGet();
        });
        assertTrue(w.settled() && w.steps() > 10, w.toString());
    }

    @Test
    void withoutAJitClockWarmsUpForAThirdOfTheBudget() {
        QuickBench q = new QuickBench(0.3, 5, new JitWarmup(0.05, 0.5, 3, null));
        JitWarmup.Result w = q.warmUp(JitWarmupTest::pause);
        assertFalse(w.settled(), "nothing says the JIT is done");
        assertTrue(w.seconds() >= 0.1, w.toString());
    }

    @Test
    void refusesBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new QuickBench(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new QuickBench(0.1, 0));
    }
}
