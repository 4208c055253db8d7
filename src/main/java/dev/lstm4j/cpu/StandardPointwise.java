package dev.lstm4j.cpu;

import static dev.lstm4j.cpu.FusedPointwise.get;
import static dev.lstm4j.cpu.FusedPointwise.set;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The standard kernels of {@link FusedPointwise}: the pointwise step of one row, forward and backward, for
 * sigmoid/tanh/tanh without clips, cell clip or coupled gate (the common case), written with the Vector API calls
 * inline (no helper methods that take vectors) and without masks; where H is not a multiple of the vector length,
 * each pass ends with an overlapping whole block, and a row shorter than one vector runs in scalar code. C2 then
 * compiles each as a few small loops with every vector operation intrinsified, whatever else the JVM has run
 * (partial masks and large units sent it to the slow Java fallback of the Vector API). Offsets count bytes.
 */
final class StandardPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    private StandardPointwise() {}

    /**
     * Runs the standard kernels once for H = 7, 16 and 17 on scratch memory, so that their profiles have seen every
     * path (scalar lanes only, whole blocks only, whole blocks and a tail). Otherwise C2 compiles them for the first
     * shape the JVM ran, and the first H with (or without) a tail deoptimises them, back to C1 code where every
     * vector is a heap object, until C2 gets round to compiling them again. It did not keep a flag tested inside a
     * loop from doing just that (a peephole flag in backward, 2026-12-06: compiled for specs without peepholes,
     * deoptimised by the first with them), so forward's {@code keep} costs one such deoptimisation when a process
     * first switches between inference and training, and specs without peepholes have loops of their own. Run when
     * {@link FusedPointwise} is first loaded, before any backend's first call.
     */
    static void primeProfiles() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            long bytes = 2 * 4L * 17 * Float.BYTES; // two rows of 4 x 17
            MemorySegment[] m = new MemorySegment[8];
            for (int i = 0; i < m.length; i++) m[i] = arena.allocate(bytes, 64);
            MemorySegment tail = arena.allocate(8L * S.length() * Float.BYTES, 64);
            float[] e = new float[expFloats(17, 2)];
            for (int n : new int[] {7, 16, 17}) {
                long g = 4L * n * Float.BYTES;
                long row = (long) n * Float.BYTES;
                for (boolean peepholes : new boolean[] {false, true}) {
                    for (boolean keep : new boolean[] {false, true}) {
                        forwardRows(n, 2, m[0], 0, g, m[1], m[2], peepholes, m[3], 0, row, m[4], 0, row, m[4], 0,
                                row, keep, tail, e);
                    }
                }
                backwardRow(n, m[4], 0, m[5], 0, m[0], 0, m[6], m[3], 0, m[2], false, m[7], 0, m[1], tail, e);
                backwardRow(n, m[4], 0, m[5], 0, m[0], 0, m[6], m[3], 0, m[2], true, m[7], 0, m[1], tail, e);
            }
        }
    }

    /** Floats of e for {@link #forwardRows} of this many rows of n. */
    static int expFloats(int n, int rows) {
        return 5 * rows * VectorExp.padded(n);
    }

    /**
     * The standard forward of rows rows in three passes over them, with the exps between them in passes of their
     * own ({@link VectorExp}) over e [5, rows, Hp] (at least {@link #expFloats}): first the arguments -a_i, -a_f and
     * 2 a_g, then i, f, g, the new c and the arguments -a_o and 2 c, then o and m = o tanh(c). Row r of g, cState,
     * mOut and hOut is at its row 0's offset plus r times its stride; offsets and strides count bytes. Sigmoid is
     * 1 / (1 + e^-a) and tanh(a) is 1 - 2 / (1 + e^2a) (at most 1.8e-7 off, against the Vector API TANH's 3.2e-8,
     * and exactly +-1 where e^2a saturates; TANH costs twice EXP). With {@code keep} the activations i, f, g, o go
     * back to g for backward. Without {@code peepholes} (peep then zeros) the first two passes are methods of their
     * own without the peephole terms, as in backward: they had cost a tenth of the step (H = 128, one core: 2.34 ->
     * 2.15 ns per cell). Same bits: fma(0, c, a) is a for every finite c. Several rows a call, not one: each pass and
     * each exp is then one call and one loop setup for them all (H = 128, 64 rows, one core, alternating: 8 rows a
     * call 0.90 of the time of one, 64 rows 0.91).
     *
     * <p>Where H is not a multiple of the vector length, each pass ends each row with a whole block at H - lanes that
     * overlaps the one before it, as backward does; the overlapped lanes get the same values twice, except that the
     * middle pass must read the previous c before it replaces it, so a row's last block runs first and leaves its c
     * in {@code tail} [lanes] until the row's others are done. Scalar lanes there had cost a fifth of the step at H =
     * 200 (one core, 64 rows: 2.62 ns per cell, against 2.12 at H = 192). Rows shorter than one vector take
     * {@link #forwardRowScalar}. Every path runs the same float32 operations, so that a value does not depend on its
     * lane ({@code UnitPlacementTest}); the exps run on e's padded rows whole.
     */
    static void forwardRows(int n, int rows, MemorySegment g, long gRow, long gStride, MemorySegment bias,
                            MemorySegment peep, boolean peepholes, MemorySegment cState, long cRow, long cStride,
                            MemorySegment mOut, long mRow, long mStride, MemorySegment hOut, long hRow, long hStride,
                            boolean keep, MemorySegment tail, float[] e) {
        if (n < S.length()) {
            for (int r = 0; r < rows; r++) {
                forwardRowScalar(n, g, gRow + r * gStride, bias, peep, cState, cRow + r * cStride, mOut,
                        mRow + r * mStride, hOut, hRow + r * hStride, keep, e);
            }
            return;
        }
        // three methods, not one: in one, C1 runs out of virtual registers, gives up, and the method then stays
        // in tier 2 code where every vector is a heap object (60 against 2.5 ns per cell). Each loop starts at 0 and
        // ends at a multiple of the lanes it computes itself: with its bounds passed in, as backward's are, the
        // passes took 10-20 % longer (H = 192).
        int hp = VectorExp.padded(n);
        int plane = rows * hp;
        if (peepholes) {
            gateArguments(n, hp, rows, g, gRow, gStride, bias, peep, cState, cRow, cStride, e);
        } else {
            gateArgumentsWithoutPeepholes(n, hp, rows, g, gRow, gStride, bias, e);
        }
        VectorExp.inPlace(e, 0, 3 * plane);
        if (peepholes) {
            cellAndOutputArguments(n, hp, rows, g, gRow, gStride, bias, peep, cState, cRow, cStride, keep, tail, e);
        } else {
            cellAndOutputArgumentsWithoutPeepholes(n, hp, rows, g, gRow, gStride, bias, cState, cRow, cStride, keep,
                    tail, e);
        }
        VectorExp.inPlace(e, 3 * plane, 5 * plane);
        standardOutput(n, hp, rows, g, gRow, gStride, mOut, mRow, mStride, hOut, hRow, hStride, keep, e);
    }

    /**
     * e planes 0..2 = -a_i, -a_f, 2 a_g of each row (bias and peepholes added), row r at r * hp of its plane
     * (rows * hp floats). n is at least one vector's lanes.
     */
    private static void gateArguments(int n, int hp, int rows, MemorySegment g, long gRow0, long gStride,
                                      MemorySegment bias, MemorySegment peep, MemorySegment cState, long cRow0,
                                      long cStride, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        int plane = rows * hp;
        for (int r = 0; r < rows; r++) {
            long gRow = gRow0 + r * gStride;
            long cRow = cRow0 + r * cStride;
            int eo = r * hp;
            for (int j = 0; j < full; j += lanes) {
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector ai = FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, bj, LE));
                FloatVector af = FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE));
                FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
                FloatVector.fromMemorySegment(S, peep, bj, LE).fma(cp, ai).neg().intoArray(e, eo + j);
                FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(cp, af).neg().intoArray(e, plane + eo + j);
                ag.add(ag).intoArray(e, 2 * plane + eo + j);
            }
            if (full < n) { // the last block, overlapping the one before
                int j = n - lanes;
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector ai = FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, bj, LE));
                FloatVector af = FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE));
                FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
                FloatVector.fromMemorySegment(S, peep, bj, LE).fma(cp, ai).neg().intoArray(e, eo + j);
                FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(cp, af).neg().intoArray(e, plane + eo + j);
                ag.add(ag).intoArray(e, 2 * plane + eo + j);
            }
        }
    }

    /**
     * From e planes 0..2 (now e^-a_i, e^-a_f, e^2a_g): i, f, g (back to g with keep), the new c into cState, and e
     * planes 3 and 4 = -a_o, 2 c. A row's overlapping last block runs first, since the loop still reads the previous
     * c there; its c waits in tail [lanes].
     */
    private static void cellAndOutputArguments(int n, int hp, int rows, MemorySegment g, long gRow0, long gStride,
                                               MemorySegment bias, MemorySegment peep, MemorySegment cState, long cRow0,
                                               long cStride, boolean keep, MemorySegment tail, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        int plane = rows * hp;
        for (int r = 0; r < rows; r++) {
            long gRow = gRow0 + r * gStride;
            long cRow = cRow0 + r * cStride;
            int eo = r * hp;
            if (full < n) {
                int j = n - lanes;
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector i = one.div(one.add(FloatVector.fromArray(S, e, eo + j)));
                FloatVector f = one.div(one.add(FloatVector.fromArray(S, e, plane + eo + j)));
                FloatVector gg = one.sub(two.div(one.add(FloatVector.fromArray(S, e, 2 * plane + eo + j))));
                FloatVector c = f.mul(cp).add(i.mul(gg));
                FloatVector ao = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE)
                        .fma(c, FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                                .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE)));
                ao.neg().intoArray(e, 3 * plane + eo + j);
                c.add(c).intoArray(e, 4 * plane + eo + j);
                c.intoMemorySegment(tail, 0, LE);
                if (keep) {
                    i.intoMemorySegment(g, gRow + bj, LE);
                    f.intoMemorySegment(g, gRow + nb + bj, LE);
                    gg.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
                }
            }
            for (int j = 0; j < full; j += lanes) {
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector i = one.div(one.add(FloatVector.fromArray(S, e, eo + j)));
                FloatVector f = one.div(one.add(FloatVector.fromArray(S, e, plane + eo + j)));
                FloatVector gg = one.sub(two.div(one.add(FloatVector.fromArray(S, e, 2 * plane + eo + j))));
                FloatVector c = f.mul(cp).add(i.mul(gg));
                FloatVector ao = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE)
                        .fma(c, FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                                .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE)));
                ao.neg().intoArray(e, 3 * plane + eo + j);
                c.add(c).intoArray(e, 4 * plane + eo + j);
                c.intoMemorySegment(cState, cRow + bj, LE);
                if (keep) {
                    i.intoMemorySegment(g, gRow + bj, LE);
                    f.intoMemorySegment(g, gRow + nb + bj, LE);
                    gg.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
                }
            }
            if (full < n) {
                long fb = (long) full * Float.BYTES;
                MemorySegment.copy(tail, fb - (long) (n - lanes) * Float.BYTES, cState, cRow + fb,
                        (long) (n - full) * Float.BYTES);
            }
        }
    }

    /** {@link #gateArguments} without peepholes. */
    private static void gateArgumentsWithoutPeepholes(int n, int hp, int rows, MemorySegment g, long gRow0,
                                                      long gStride, MemorySegment bias, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        int plane = rows * hp;
        for (int r = 0; r < rows; r++) {
            long gRow = gRow0 + r * gStride;
            int eo = r * hp;
            for (int j = 0; j < full; j += lanes) {
                long bj = (long) j * Float.BYTES;
                FloatVector ai = FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, bj, LE));
                FloatVector af = FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE));
                FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
                ai.neg().intoArray(e, eo + j);
                af.neg().intoArray(e, plane + eo + j);
                ag.add(ag).intoArray(e, 2 * plane + eo + j);
            }
            if (full < n) {
                int j = n - lanes;
                long bj = (long) j * Float.BYTES;
                FloatVector ai = FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, bj, LE));
                FloatVector af = FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE));
                FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
                ai.neg().intoArray(e, eo + j);
                af.neg().intoArray(e, plane + eo + j);
                ag.add(ag).intoArray(e, 2 * plane + eo + j);
            }
        }
    }

    /** {@link #cellAndOutputArguments} without peepholes. */
    private static void cellAndOutputArgumentsWithoutPeepholes(int n, int hp, int rows, MemorySegment g, long gRow0,
                                                               long gStride, MemorySegment bias, MemorySegment cState,
                                                               long cRow0, long cStride, boolean keep,
                                                               MemorySegment tail, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        int plane = rows * hp;
        for (int r = 0; r < rows; r++) {
            long gRow = gRow0 + r * gStride;
            long cRow = cRow0 + r * cStride;
            int eo = r * hp;
            if (full < n) {
                int j = n - lanes;
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector i = one.div(one.add(FloatVector.fromArray(S, e, eo + j)));
                FloatVector f = one.div(one.add(FloatVector.fromArray(S, e, plane + eo + j)));
                FloatVector gg = one.sub(two.div(one.add(FloatVector.fromArray(S, e, 2 * plane + eo + j))));
                FloatVector c = f.mul(cp).add(i.mul(gg));
                FloatVector ao = FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE));
                ao.neg().intoArray(e, 3 * plane + eo + j);
                c.add(c).intoArray(e, 4 * plane + eo + j);
                c.intoMemorySegment(tail, 0, LE);
                if (keep) {
                    i.intoMemorySegment(g, gRow + bj, LE);
                    f.intoMemorySegment(g, gRow + nb + bj, LE);
                    gg.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
                }
            }
            for (int j = 0; j < full; j += lanes) {
                long bj = (long) j * Float.BYTES;
                FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
                FloatVector i = one.div(one.add(FloatVector.fromArray(S, e, eo + j)));
                FloatVector f = one.div(one.add(FloatVector.fromArray(S, e, plane + eo + j)));
                FloatVector gg = one.sub(two.div(one.add(FloatVector.fromArray(S, e, 2 * plane + eo + j))));
                FloatVector c = f.mul(cp).add(i.mul(gg));
                FloatVector ao = FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                        .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE));
                ao.neg().intoArray(e, 3 * plane + eo + j);
                c.add(c).intoArray(e, 4 * plane + eo + j);
                c.intoMemorySegment(cState, cRow + bj, LE);
                if (keep) {
                    i.intoMemorySegment(g, gRow + bj, LE);
                    f.intoMemorySegment(g, gRow + nb + bj, LE);
                    gg.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
                }
            }
            if (full < n) {
                long fb = (long) full * Float.BYTES;
                MemorySegment.copy(tail, fb - (long) (n - lanes) * Float.BYTES, cState, cRow + fb,
                        (long) (n - full) * Float.BYTES);
            }
        }
    }

    /** From e planes 3 and 4 (now e^-a_o, e^2c): o (back to g with keep) and m = o tanh(c) into mOut and hOut. */
    private static void standardOutput(int n, int hp, int rows, MemorySegment g, long gRow0, long gStride,
                                       MemorySegment mOut, long mRow0, long mStride, MemorySegment hOut, long hRow0,
                                       long hStride, boolean keep, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        int plane = rows * hp;
        for (int r = 0; r < rows; r++) {
            long gRow = gRow0 + r * gStride;
            long mRow = mRow0 + r * mStride;
            long hRow = hRow0 + r * hStride;
            int eo = r * hp;
            for (int j = 0; j < full; j += lanes) {
                long bj = (long) j * Float.BYTES;
                FloatVector o = one.div(one.add(FloatVector.fromArray(S, e, 3 * plane + eo + j)));
                FloatVector mv = o.mul(one.sub(two.div(one.add(FloatVector.fromArray(S, e, 4 * plane + eo + j)))));
                mv.intoMemorySegment(mOut, mRow + bj, LE);
                mv.intoMemorySegment(hOut, hRow + bj, LE);
                if (keep) {
                    o.intoMemorySegment(g, gRow + 3 * nb + bj, LE);
                }
            }
            if (full < n) {
                int j = n - lanes;
                long bj = (long) j * Float.BYTES;
                FloatVector o = one.div(one.add(FloatVector.fromArray(S, e, 3 * plane + eo + j)));
                FloatVector mv = o.mul(one.sub(two.div(one.add(FloatVector.fromArray(S, e, 4 * plane + eo + j)))));
                mv.intoMemorySegment(mOut, mRow + bj, LE);
                mv.intoMemorySegment(hOut, hRow + bj, LE);
                if (keep) {
                    o.intoMemorySegment(g, gRow + 3 * nb + bj, LE);
                }
            }
        }
    }

    /**
     * {@link #forwardRows} for a row of fewer than one vector's lanes, in scalar code with the same float32
     * operations and the same exp passes (peep zeros without peepholes).
     */
    private static void forwardRowScalar(int n, MemorySegment g, long gRow, MemorySegment bias, MemorySegment peep,
                                         MemorySegment cState, long cRow, MemorySegment mOut, long mRow,
                                         MemorySegment hOut, long hRow, boolean keep, float[] e) {
        int hp = VectorExp.padded(n);
        long nb = (long) n * Float.BYTES;
        for (int j = 0; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float cp = get(cState, cRow + bj);
            e[j] = -Math.fma(get(peep, bj), cp, get(g, gRow + bj) + get(bias, bj));
            e[hp + j] = -Math.fma(get(peep, nb + bj), cp, get(g, gRow + nb + bj) + get(bias, nb + bj));
            float ag = get(g, gRow + 2 * nb + bj) + get(bias, 2 * nb + bj);
            e[2 * hp + j] = ag + ag;
        }
        VectorExp.inPlace(e, 0, 3 * hp);
        for (int j = 0; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float cp = get(cState, cRow + bj);
            float i = 1f / (1f + e[j]);
            float f = 1f / (1f + e[hp + j]);
            float gg = 1f - 2f / (1f + e[2 * hp + j]);
            float c = f * cp + i * gg;
            float ao = Math.fma(get(peep, 2 * nb + bj), c, get(g, gRow + 3 * nb + bj) + get(bias, 3 * nb + bj));
            e[3 * hp + j] = -ao;
            e[4 * hp + j] = c + c;
            set(cState, cRow + bj, c);
            if (keep) {
                set(g, gRow + bj, i);
                set(g, gRow + nb + bj, f);
                set(g, gRow + 2 * nb + bj, gg);
            }
        }
        VectorExp.inPlace(e, 3 * hp, 5 * hp);
        for (int j = 0; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float o = 1f / (1f + e[3 * hp + j]);
            float mv = o * (1f - 2f / (1f + e[4 * hp + j]));
            set(mOut, mRow + bj, mv);
            set(hOut, hRow + bj, mv);
            if (keep) {
                set(g, gRow + 3 * nb + bj, o);
            }
        }
    }

    /** e[j] = 2 c[j] for j < n (c's row at byte offset cRow). */
    private static void doubled(int n, MemorySegment c, long cRow, float[] e) {
        int lanes = S.length();
        int full = n - n % lanes;
        for (int j = 0; j < full; j += lanes) {
            FloatVector cv = FloatVector.fromMemorySegment(S, c, cRow + (long) j * Float.BYTES, LE);
            cv.add(cv).intoArray(e, j);
        }
        for (int j = full; j < n; j++) {
            float cv = get(c, cRow + (long) j * Float.BYTES);
            e[j] = cv + cv;
        }
    }

    static void backwardRow(int n, MemorySegment dm, long dmRow, MemorySegment dcState, long dcRow,
                            MemorySegment a, long aRow, MemorySegment cPrev, MemorySegment c, long cRow,
                            MemorySegment peep, boolean peepholes, MemorySegment dPeep, long pRow, MemorySegment dA,
                            MemorySegment tail, float[] e) {
        long nb = (long) n * Float.BYTES;
        int lanes = S.length();
        int full = n - n % lanes;
        // e^2c for tanh(c) first, in a pass of its own (see VectorExp): e [Hp]
        doubled(n, c, cRow, e);
        VectorExp.inPlace(e, 0, VectorExp.padded(n));
        if (full < n && n >= lanes) {
            // as in forward: the last block first, into tail [8, lanes] (dA's 4 gates, dc, dPeep's 3), then copied
            long last = (long) (n - lanes) * Float.BYTES;
            long lb = (long) lanes * Float.BYTES;
            if (peepholes) {
                backwardLanes(last, last + lb, nb, dm, dmRow, dcState, dcRow, a, aRow, cPrev, c, cRow, e, peep,
                        dPeep, pRow, tail, -last, lb, tail, 4 * lb - last, tail, 5 * lb - last, lb);
            } else {
                backwardLanesWithoutPeepholes(last, last + lb, nb, dm, dmRow, dcState, dcRow, a, aRow, cPrev, cRow,
                        e, tail, -last, lb, tail, 4 * lb - last);
            }
        }
        if (peepholes) {
            backwardLanes(0, (long) full * Float.BYTES, nb, dm, dmRow, dcState, dcRow, a, aRow, cPrev, c, cRow, e,
                    peep, dPeep, pRow, dA, aRow, nb, dcState, dcRow, dPeep, pRow, nb);
        } else {
            backwardLanesWithoutPeepholes(0, (long) full * Float.BYTES, nb, dm, dmRow, dcState, dcRow, a, aRow,
                    cPrev, cRow, e, dA, aRow, nb, dcState, dcRow);
        }
        if (full == n) {
            return;
        }
        if (n >= lanes) {
            long lb = (long) lanes * Float.BYTES;
            long from = (long) (full - (n - lanes)) * Float.BYTES;
            long fb = (long) full * Float.BYTES;
            long bytes = (long) (n - full) * Float.BYTES;
            for (int k = 0; k < 4; k++) {
                MemorySegment.copy(tail, k * lb + from, dA, aRow + k * nb + fb, bytes);
            }
            MemorySegment.copy(tail, 4 * lb + from, dcState, dcRow + fb, bytes);
            if (peepholes) {
                for (int k = 0; k < 3; k++) {
                    MemorySegment.copy(tail, (5 + k) * lb + from, dPeep, pRow + k * nb + fb, bytes);
                }
            }
            return;
        }
        for (int j = 0; j < n; j++) { // fewer than one vector of lanes
            long bj = (long) j * Float.BYTES;
            float i = get(a, aRow + bj);
            float f = get(a, aRow + nb + bj);
            float gg = get(a, aRow + 2 * nb + bj);
            float o = get(a, aRow + 3 * nb + bj);
            float cp = get(cPrev, cRow + bj);
            float cv = get(c, cRow + bj);
            float dmv = get(dm, dmRow + bj);
            float hc = 1f - 2f / (1f + e[j]);
            float dao = dmv * hc * (o * (1 - o));
            float dc = get(dcState, dcRow + bj) + dmv * o * (1 - hc * hc);
            dc = Math.fma(get(peep, 2 * nb + bj), dao, dc);
            set(dPeep, pRow + 2 * nb + bj, get(dPeep, pRow + 2 * nb + bj) + dao * cv);
            float dai = dc * gg * (i * (1 - i));
            float daf = dc * cp * (f * (1 - f));
            float dag = dc * i * (1 - gg * gg);
            float dcp = Math.fma(get(peep, nb + bj), daf, Math.fma(get(peep, bj), dai, dc * f));
            set(dPeep, pRow + bj, get(dPeep, pRow + bj) + dai * cp);
            set(dPeep, pRow + nb + bj, get(dPeep, pRow + nb + bj) + daf * cp);
            set(dA, aRow + bj, dai);
            set(dA, aRow + nb + bj, daf);
            set(dA, aRow + 2 * nb + bj, dag);
            set(dA, aRow + 3 * nb + bj, dao);
            set(dcState, dcRow + bj, dcp);
        }
    }

    /**
     * The blocks of lanes at byte offsets from, from + step, ... (below to) of backward's row: reads as
     * {@link #backwardRowStandard} does, and e^2c from e2c (the float at the block's byte offset / 4); writes dA
     * (gate stride dAStride), dc and dPeep (stride pOutStride) to the given places, each at its row offset + the
     * block's offset.
     */
    private static void backwardLanes(long from, long to, long nb, MemorySegment dm, long dmRow,
                                      MemorySegment dcState, long dcRow, MemorySegment a, long aRow,
                                      MemorySegment cPrev, MemorySegment c, long cRow, float[] e2c,
                                      MemorySegment peep, MemorySegment dPeep, long pRow, MemorySegment dAOut,
                                      long dARow, long dAStride,
                                      MemorySegment dcOut, long dcOutRow, MemorySegment dPeepOut, long pOutRow,
                                      long pOutStride) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        long step = (long) S.length() * Float.BYTES;
        for (long bj = from; bj < to; bj += step) {
            FloatVector i = FloatVector.fromMemorySegment(S, a, aRow + bj, LE);
            FloatVector f = FloatVector.fromMemorySegment(S, a, aRow + nb + bj, LE);
            FloatVector gg = FloatVector.fromMemorySegment(S, a, aRow + 2 * nb + bj, LE);
            FloatVector o = FloatVector.fromMemorySegment(S, a, aRow + 3 * nb + bj, LE);
            FloatVector cp = FloatVector.fromMemorySegment(S, cPrev, cRow + bj, LE);
            FloatVector cv = FloatVector.fromMemorySegment(S, c, cRow + bj, LE);
            FloatVector dmv = FloatVector.fromMemorySegment(S, dm, dmRow + bj, LE);
            FloatVector dc = FloatVector.fromMemorySegment(S, dcState, dcRow + bj, LE);
            FloatVector hc = one.sub(two.div(one.add(FloatVector.fromArray(S, e2c, (int) (bj / Float.BYTES)))));
            FloatVector dao = dmv.mul(hc).mul(o.mul(one.sub(o)));
            dc = dc.add(dmv.mul(o).mul(one.sub(hc.mul(hc))));
            dc = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE).fma(dao, dc);
            FloatVector.fromMemorySegment(S, dPeep, pRow + 2 * nb + bj, LE).add(dao.mul(cv))
                    .intoMemorySegment(dPeepOut, pOutRow + 2 * pOutStride + bj, LE);
            FloatVector dai = dc.mul(gg).mul(i.mul(one.sub(i)));
            FloatVector daf = dc.mul(cp).mul(f.mul(one.sub(f)));
            FloatVector dag = dc.mul(i).mul(one.sub(gg.mul(gg)));
            FloatVector dcp = dc.mul(f);
            dcp = FloatVector.fromMemorySegment(S, peep, bj, LE).fma(dai, dcp);
            dcp = FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(daf, dcp);
            FloatVector.fromMemorySegment(S, dPeep, pRow + bj, LE).add(dai.mul(cp))
                    .intoMemorySegment(dPeepOut, pOutRow + bj, LE);
            FloatVector.fromMemorySegment(S, dPeep, pRow + nb + bj, LE).add(daf.mul(cp))
                    .intoMemorySegment(dPeepOut, pOutRow + pOutStride + bj, LE);
            dai.intoMemorySegment(dAOut, dARow + bj, LE);
            daf.intoMemorySegment(dAOut, dARow + dAStride + bj, LE);
            dag.intoMemorySegment(dAOut, dARow + 2 * dAStride + bj, LE);
            dao.intoMemorySegment(dAOut, dARow + 3 * dAStride + bj, LE);
            dcp.intoMemorySegment(dcOut, dcOutRow + bj, LE);
        }
    }

    /**
     * {@link #backwardLanes} for specs without peepholes, without their terms: a method of its own, not a flag in
     * that loop, since C2 compiles a loop for the flag it has seen and deoptimises it when the other comes (a JVM
     * that runs both kinds of spec then ran seconds of slow steps). Without peepholes backward had read, added to and
     * written back the peephole-gradient rows for every batch row: 40 % of its time (H = 128, one core: 2.6 -> 1.5 ns
     * per cell).
     */
    private static void backwardLanesWithoutPeepholes(long from, long to, long nb, MemorySegment dm, long dmRow,
                                                      MemorySegment dcState, long dcRow, MemorySegment a, long aRow,
                                                      MemorySegment cPrev, long cRow, float[] e2c,
                                                      MemorySegment dAOut, long dARow, long dAStride,
                                                      MemorySegment dcOut, long dcOutRow) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        long step = (long) S.length() * Float.BYTES;
        for (long bj = from; bj < to; bj += step) {
            FloatVector i = FloatVector.fromMemorySegment(S, a, aRow + bj, LE);
            FloatVector f = FloatVector.fromMemorySegment(S, a, aRow + nb + bj, LE);
            FloatVector gg = FloatVector.fromMemorySegment(S, a, aRow + 2 * nb + bj, LE);
            FloatVector o = FloatVector.fromMemorySegment(S, a, aRow + 3 * nb + bj, LE);
            FloatVector cp = FloatVector.fromMemorySegment(S, cPrev, cRow + bj, LE);
            FloatVector dmv = FloatVector.fromMemorySegment(S, dm, dmRow + bj, LE);
            FloatVector hc = one.sub(two.div(one.add(FloatVector.fromArray(S, e2c, (int) (bj / Float.BYTES)))));
            FloatVector dc = FloatVector.fromMemorySegment(S, dcState, dcRow + bj, LE)
                    .add(dmv.mul(o).mul(one.sub(hc.mul(hc))));
            dmv.mul(hc).mul(o.mul(one.sub(o))).intoMemorySegment(dAOut, dARow + 3 * dAStride + bj, LE);
            dc.mul(gg).mul(i.mul(one.sub(i))).intoMemorySegment(dAOut, dARow + bj, LE);
            dc.mul(cp).mul(f.mul(one.sub(f))).intoMemorySegment(dAOut, dARow + dAStride + bj, LE);
            dc.mul(i).mul(one.sub(gg.mul(gg))).intoMemorySegment(dAOut, dARow + 2 * dAStride + bj, LE);
            dc.mul(f).intoMemorySegment(dcOut, dcOutRow + bj, LE);
        }
    }
}
