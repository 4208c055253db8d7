package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * The parts of a lone recurrence's steps over its {@link CpuThreads.Team}: each step's recurrent GEMM by column
 * panels (or sgemv's outputs), and by rows what comes after it forward (the pointwise step, and with a projection
 * h = W_hr m) and before it backward (dL/dm, through W_hr with a projection, and the pointwise backward). One object
 * is reused by every step of the recurrence, as a lambda per step would be an allocation per step: each method sets
 * the step's fields and runs the team on this.
 */
final class TeamStep implements IntConsumer {
    private static final int GEMM = 0;
    private static final int FORWARD = 1;
    private static final int BACKWARD = 2;
    private final CpuThreads.Team team;
    private final RecurrentStep step;
    private final int hidden;
    private final FastCpuWorkspace.Dir dir;
    private final int l;
    private final int parts;
    private final MemorySegment whh;
    private final MemorySegment whr;
    private final MemorySegment peep;
    private final boolean training;
    private final boolean[] active;
    // the step's arguments, written by the leader before team.run (a volatile write) and read by the parts
    private int kind;
    private int rows;
    private long row0;
    private int b0;
    private boolean gemv;
    private boolean backward;
    private int n;
    private int k;
    private int at;
    private MemorySegment a;
    private long aOff;
    private MemorySegment c;
    private long cOff;
    private long gOff;
    private MemorySegment out;
    private long outOff;
    private int width;
    private MemorySegment dOut;

    /**
     * @param hidden H: part q's peephole-gradient accumulator starts at 3H * q in dir.dPeep
     * @param whh    [4H, P] of layer l, this direction
     * @param whr    [P, H] of layer l, this direction, or null without a projection
     * @param peep   [3H] or null without peepholes
     * @param active this step's active rows, or null when every row is
     */
    TeamStep(CpuThreads.Team team, RecurrentStep step, int hidden, FastCpuWorkspace.Dir dir, int l, MemorySegment whh,
             MemorySegment whr, MemorySegment peep, boolean training, boolean[] active) {
        this.team = team;
        this.step = step;
        this.hidden = hidden;
        this.dir = dir;
        this.l = l;
        this.parts = team.parts();
        this.whh = whh;
        this.whr = whr;
        this.peep = peep;
        this.training = training;
        this.active = active;
    }

    /** {@link StepGemms#recurrentPart}'s ranges: whole panels and the unpacked tail columns, or sgemv's outputs. */
    void gemm(boolean gemv, boolean backward, int rows, int n, int k, int at, MemorySegment a, long aOff,
              MemorySegment c, long cOff) {
        this.kind = GEMM;
        this.gemv = gemv;
        this.backward = backward;
        this.rows = rows;
        this.n = n;
        this.k = k;
        this.at = at;
        this.a = a;
        this.aOff = aOff;
        this.c = c;
        this.cOff = cOff;
        team.run(this);
    }

    /**
     * The forward pointwise step by rows, its gates [rows, 4H] at g + gOff, and with a projection each part's rows of
     * h = W_hr m (W_hr packed for the step, {@link StepProjection}, or OpenBLAS).
     */
    void forward(int rows, long row0, int b0, long gOff, MemorySegment out, long outOff, int width) {
        this.kind = FORWARD;
        this.rows = rows;
        this.row0 = row0;
        this.b0 = b0;
        this.gOff = gOff;
        this.out = out;
        this.outOff = outOff;
        this.width = width;
        team.run(this);
    }

    /**
     * dL/dm of the rows ({@link RecurrentStep#gradientOfM}: the output gradient at dOut + outOff, leading dimension
     * width, and with a projection through W_hr) and the backward pointwise step, by rows; part q accumulates
     * peephole gradients in accumulator q.
     */
    void backward(int rows, long row0, int b0, MemorySegment dOut, long outOff, int width) {
        this.kind = BACKWARD;
        this.rows = rows;
        this.row0 = row0;
        this.b0 = b0;
        this.dOut = dOut;
        this.outOff = outOff;
        this.width = width;
        team.run(this);
    }

    @Override
    public void accept(int q) {
        if (kind == GEMM) {
            StepGemms.recurrentPart(gemv, dir.whhPacked, whh, backward, rows, n, k, dir.stepRows, at, a, aOff, c,
                    cOff, q, parts);
            return;
        }
        int r0 = rows * q / parts;
        int r1 = rows * (q + 1) / parts;
        if (r1 == r0) {
            return; // fewer rows than parts
        }
        if (kind == FORWARD) {
            step.forward(dir, l, whr, peep, r1 - r0, row0 + r0, b0 + r0, dir.g[l], gOff + (long) r0 * 4 * hidden,
                    out, outOff + (long) r0 * width, width, training, active);
        } else {
            step.gradientOfM(dir, whr, r1 - r0, row0 + r0, b0 + r0, dOut, outOff + (long) r0 * width, width, active);
            step.backward(dir, l, peep, r1 - r0, row0 + r0, b0 + r0, 3L * hidden * q, active);
        }
    }
}
