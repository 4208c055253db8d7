package dev.lstm4j.cpu;

/**
 * How the backend's threads wait for one another: a thread that begins to wait at {@code since} calls one of these
 * once per look at what it waits for, and parks when it returns false.
 *
 * <p>Between the steps of a recurrence (a team's member waiting for the next step, its leader for the step's last
 * part, a pipeline stage for its neighbour's step) a thread spins for {@link #SPIN_NANOS}, then yields its core until
 * {@link #YIELD_NANOS}, and only then parks ({@link #spinOrYield}). These waits come every step and are short, but on
 * this project's VMs they often outlast 50 us, and a parked thread's wake-up costs tens of microseconds more (a futex
 * wake, and an interrupt to a halted vCPU), paid at each such step. Against parking after 50 us of spinning (paired
 * 1-s blocks, 2 threads, Zen 5 VM): ptb-medium inference 0.993 and 0.919 of the time (the two builds in either
 * order), ptb-small inference 0.988, training 0.944; beside a process busy on one of the two cores, ptb-medium 0.958,
 * ptb-small 0.974; large-batch and seed-mnist, which have no such waits, level. Spinning for the whole millisecond
 * instead of yielding made ptb-medium and ptb-small 1.46 and 1.59 times as slow beside a busy process, whose thread
 * a spinning one keeps off its core.
 *
 * <p>A caller waiting for a call's parts (which take milliseconds and may be uneven) and an idle worker between
 * calls only spin, then park ({@link #spin}): a caller yielding in a loop beside a long part had made large-batch
 * inference about 3 % slower (1.032 and 1.036, the builds in either order).
 */
final class Backoff {
    /** How long a waiting thread spins before it yields (between steps) or parks (otherwise). */
    static final long SPIN_NANOS = 50_000;
    /** How long a thread waiting between steps looks again before it parks. */
    static final long YIELD_NANOS = 1_000_000;

    private Backoff() {}

    /** What a waiting thread does at its next look. */
    enum Pause { SPIN, YIELD, PARK }

    /** The pause of a thread that has waited {@code waited} ns, between steps or otherwise. */
    static Pause after(long waited, boolean betweenSteps) {
        if (waited < SPIN_NANOS) return Pause.SPIN;
        return betweenSteps && waited < YIELD_NANOS ? Pause.YIELD : Pause.PARK;
    }

    /**
     * One pause of a thread waiting between steps since {@code since} (System.nanoTime): a spin-wait hint or a yield
     * of the core ({@link #after}); false, without pausing, once the caller should park.
     */
    static boolean spinOrYield(long since) {
        return pause(after(System.nanoTime() - since, true));
    }

    /** One pause of any other wait since {@code since}: a spin-wait hint, or false once the caller should park. */
    static boolean spin(long since) {
        return pause(after(System.nanoTime() - since, false));
    }

    private static boolean pause(Pause p) {
        if (p == Pause.SPIN) {
            Thread.onSpinWait();
        } else if (p == Pause.YIELD) {
            Thread.yield();
        }
        return p != Pause.PARK;
    }
}
