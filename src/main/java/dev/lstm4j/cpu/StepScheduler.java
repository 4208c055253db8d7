package dev.lstm4j.cpu;

import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs independent recurrences (directions, batch chunks) step by step over the threads, a step at a time, so that a
 * thread whose own recurrences are done takes the next steps of another's: the call ends when the last step does,
 * not when the slowest core's share does.
 *
 * <p>Each thread has home recurrences and takes their steps, the one furthest behind first; once every home
 * recurrence is done or running elsewhere, it takes the next step of whichever other recurrence is furthest behind
 * and not running. A recurrence's steps are taken in order, one thread at a time: a claim (CAS) before a step and its
 * release (a volatile write) after it order one step's writes before the next step's reads, whichever threads run
 * them. A thread with nothing to take waits as a team's member waits between steps ({@link Backoff}).
 *
 * <p>Why: on this project's VMs one vCPU often runs slower than the other for milliseconds. With each thread running
 * its own chunk's whole recurrence, a seed-mnist inference call then waited for the slower core: its two chunks ended
 * a median 156 us apart in such a phase (quartiles 28-394 us; 7-23 us in quiet ones), and in 36 % of calls the
 * caller, done first, parked before the other finished.
 */
final class StepScheduler {
    /** One recurrence, stepped in order: step s reads what step s - 1 wrote. */
    interface Recurrence {
        void step(int s);
    }

    private StepScheduler() {}

    /**
     * Runs steps 0..steps-1 of every recurrence on parts threads of pool (parts >= 2), recurrence r at home on thread
     * home[r], and returns when all are done.
     */
    static void run(CpuThreads pool, int parts, Recurrence[] recurrences, int[] home, int steps, Set<String> ran) {
        int n = recurrences.length;
        AtomicIntegerArray claimed = new AtomicIntegerArray(n); // 1 while a thread runs one of its steps
        AtomicIntegerArray next = new AtomicIntegerArray(n);    // the next step to run
        AtomicBoolean failed = new AtomicBoolean();             // a step threw: the others stop (parallel rethrows)
        pool.parallel(parts, q -> {
            long idleSince = 0;
            while (!failed.get()) {
                int r = pick(q, home, claimed, next, steps, true);
                if (r < 0) {
                    r = pick(q, home, claimed, next, steps, false);
                }
                if (r < 0) {
                    if (allDone(next, steps)) {
                        return;
                    }
                    // the last steps run elsewhere
                    if (idleSince == 0) {
                        idleSince = System.nanoTime();
                    }
                    if (!Backoff.spinOrYield(idleSince)) {
                        LockSupport.parkNanos(Backoff.SPIN_NANOS);
                    }
                    continue;
                }
                idleSince = 0;
                if (!claimed.compareAndSet(r, 0, 1)) {
                    continue;
                }
                int s = next.get(r);
                if (s >= steps) { // finished between the pick and the claim
                    claimed.set(r, 0);
                    continue;
                }
                try {
                    recurrences[r].step(s);
                } catch (RuntimeException | Error e) {
                    failed.set(true);
                    throw e;
                } finally {
                    next.set(r, s + 1);
                    claimed.set(r, 0);
                }
            }
        }, ran);
    }

    /** The unclaimed, unfinished recurrence furthest behind, among q's home ones or among the others; -1 if none. */
    private static int pick(int q, int[] home, AtomicIntegerArray claimed, AtomicIntegerArray next, int steps,
                            boolean atHome) {
        int best = -1;
        int bestStep = steps;
        for (int r = 0; r < next.length(); r++) {
            if ((home[r] == q) != atHome || claimed.get(r) != 0) {
                continue;
            }
            int s = next.get(r);
            if (s < bestStep) {
                best = r;
                bestStep = s;
            }
        }
        return best;
    }

    private static boolean allDone(AtomicIntegerArray next, int steps) {
        for (int r = 0; r < next.length(); r++) {
            if (next.get(r) < steps) {
                return false;
            }
        }
        return true;
    }
}
