package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.lstm4j.cpu.Backoff.Pause;
import org.junit.jupiter.api.Test;

/** The waits' policy ({@link Backoff}): what a waiting thread does after how long. */
class BackoffTest {

    @Test
    void betweenStepsAThreadSpinsThenYieldsThenParks() {
        assertEquals(Pause.SPIN, Backoff.after(0, true));
        assertEquals(Pause.SPIN, Backoff.after(Backoff.SPIN_NANOS - 1, true));
        assertEquals(Pause.YIELD, Backoff.after(Backoff.SPIN_NANOS, true));
        assertEquals(Pause.YIELD, Backoff.after(Backoff.YIELD_NANOS - 1, true));
        assertEquals(Pause.PARK, Backoff.after(Backoff.YIELD_NANOS, true));
    }

    @Test
    void otherWaitsOnlySpinBeforeTheyPark() {
        assertEquals(Pause.SPIN, Backoff.after(Backoff.SPIN_NANOS - 1, false));
        assertEquals(Pause.PARK, Backoff.after(Backoff.SPIN_NANOS, false));
    }

    @Test
    void aLongWaitParks() {
        // began an hour ago: park, however long the calls themselves take (a fresh wait's answer depends on timing)
        long longAgo = System.nanoTime() - 3_600_000_000_000L;
        assertFalse(Backoff.spinOrYield(longAgo));
        assertFalse(Backoff.spin(longAgo));
    }
}
