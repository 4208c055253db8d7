package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The pointwise part of one LSTM step for a block of batch rows, forward and backward, with the Vector API: each
 * row in a few passes over it, which stay in cache: the general kernels here (any activations, clips, coupled
 * gate), the standard LSTM's in {@link StandardPointwise} (with their exps in passes of their own,
 * {@link VectorExp}). The GEMMs around it (input projection, recurrent product, projection) are done before and
 * after; this class sees the summed pre-activations.
 *
 * <p>Equations as {@link ReferenceCell}: gates i, f, g, o from the pre-activations (plus bias, plus peepholes), the
 * ONNX clip bounding every activation's input, the cell clip bounding c, f = 1 - i with a coupled input-forget
 * gate, m = o * h(c). A row that is past its sequence's length (inactive) keeps its state, gets m = 0 and, backward,
 * a zero pre-activation gradient.
 *
 * <p>All offsets and leading dimensions count floats (inside, the row kernels count bytes). Rows of the 4H-wide
 * matrices hold i, f, g, o blocks of H.
 *
 * <p>No vector crosses a method boundary here (VectorBoundaryTest checks it): a vector passed to or returned from a
 * method that C2 does not inline must be a heap object, and C2 then boxes it where it is defined, inside the loops.
 */
final class FusedPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    static {
        StandardPointwise.primeProfiles();
    }

    private final int h;
    private final boolean inputForget;
    /** The cell clip bound; {@code Float.POSITIVE_INFINITY} for none (then clamping c changes nothing). */
    private final float cellClip;
    private final VectorActivation fAct;
    private final VectorActivation gAct;
    private final VectorActivation hAct;
    /** Sigmoid/tanh/tanh without clip, cell clip or coupled gate: the common case, with its own small kernels. */
    private final boolean standard;
    /**
     * [3H] zeros: the peepholes of a spec without them, so that the general kernels have no branches (the standard
     * kernels have loops of their own for such specs instead, {@link StandardPointwise}).
     */
    private final MemorySegment zeros;
    /**
     * [6H] per thread, for the general kernels: the activations of one row (i, f, g, o, h(c)) and h'(c). forward
     * and backward run concurrently on several threads (for different rows), so each thread has its own; allocated
     * once per thread, never per step.
     */
    private final ThreadLocal<MemorySegment> scratch;
    /**
     * [5, Hp] per thread, Hp = H rounded up to whole vectors: the standard forward's arguments of its five exps
     * (-a_i, -a_f, 2 a_g, then -a_o, 2 c), and the standard backward's 2 c in its first row, which {@link VectorExp}
     * turns into their exps in place; the general kernels' sigmoid and tanh use its first row the same way.
     */
    private final ThreadLocal<float[]> exps;
    /**
     * Rows per call of the standard forward ({@link StandardPointwise#forwardRows}): up to 8, fewer where H is so
     * long that their exps would not fit in about 30 KiB (a row's 5 x Hp floats each).
     */
    private final int rowsPerCall;
    private static final int ROWS_EXP_FLOATS = 1536;

    FusedPointwise(LstmSpec spec) {
        this.h = spec.hiddenSize();
        this.inputForget = spec.inputForget();
        float clip = spec.hasClip() ? (float) spec.clip() : Float.POSITIVE_INFINITY;
        this.cellClip = spec.hasCellClip() ? (float) spec.cellClip() : Float.POSITIVE_INFINITY;
        this.fAct = new VectorActivation(spec.gateActivation(), clip);
        this.gAct = new VectorActivation(spec.cellActivation(), clip);
        this.hAct = new VectorActivation(spec.hiddenActivation(), clip);
        this.standard = spec.hasStandardActivations() && !spec.hasClip() && !spec.hasCellClip() && !inputForget;
        this.zeros = java.lang.foreign.Arena.ofAuto().allocate(3L * h * Float.BYTES, 64);
        // the general kernels' 6 rows, or the standard ones' last block ([lanes] in forward, [8, lanes] in backward)
        long scratchBytes = Math.max(6L * h, 8L * S.length()) * Float.BYTES;
        this.scratch = ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(scratchBytes, 64));
        this.rowsPerCall = Math.max(1, Math.min(8, ROWS_EXP_FLOATS / VectorExp.padded(h)));
        int expFloats = StandardPointwise.expFloats(h, rowsPerCall);
        this.exps = ThreadLocal.withInitial(() -> new float[expFloats]);
    }

    /** Whether this spec's rows take the standard kernels, not the general ones (for tests). */
    boolean standardKernels() {
        return standard;
    }

    /**
     * Forward for rows 0..rows-1.
     *
     * @param g        [rows, 4H] at gOff: pre-activations W x + R h (in); in training (cPrevOut given) overwritten for
     *                 backward with the gates' activations i, f, g, o by the standard kernels (so that backward
     *                 computes no activation but tanh(c)), with the full pre-activations (bias and peepholes added,
     *                 before clip) by the general ones; in inference scratch
     * @param bias     [4H]: b_ih + b_hh
     * @param peep     [3H] (i, f, o) or null
     * @param cState   [rows, H]: c of the previous step (in), c of this step (out, active rows only)
     * @param cPrevOut [rows, H] at cPrevOff or null: receives c of the previous step (training)
     * @param cOut     [rows, H] at cOutOff or null: receives c of this step (training)
     * @param cRawOut  [rows, H] at cOutOff or null: receives c before the cell clip (training with a cell clip)
     * @param mOut     receives m = o * h(c) for active rows and 0 for inactive ones; row stride mLd
     * @param hState   null, or [rows, H] receiving m for active rows (the h state when there is no projection)
     * @param stateOff offset of row 0 in cState and hState
     * @param active   null (all rows active) or which rows are within their sequence, row r at active[activeOff + r]
     */
    void forward(int rows, MemorySegment g, long gOff, MemorySegment bias, MemorySegment peep,
                 MemorySegment cState, MemorySegment cPrevOut, long cPrevOff, MemorySegment cOut, MemorySegment cRawOut,
                 long cOutOff, MemorySegment mOut, long mOff, int mLd, MemorySegment hState, long stateOff,
                 boolean[] active, int activeOff) {
        int n = h;
        MemorySegment s = scratch.get();
        float[] e = exps.get();
        // each run of active rows together; an inactive row's m is zero
        int r = 0;
        while (r < rows) {
            if (active != null && !active[activeOff + r]) {
                VectorMath.zero(mOut, mOff + (long) r * mLd, n);
                r++;
                continue;
            }
            int end = r + 1;
            while (end < rows && (active == null || active[activeOff + end])) end++;
            if (standard) {
                forwardStandardRows(end - r, g, gOff + (long) r * 4 * n, bias, peep, cState, cPrevOut,
                        cPrevOff + (long) r * n, cOut, cOutOff + (long) r * n, mOut, mOff + (long) r * mLd, mLd, hState,
                        stateOff + (long) r * n, s, e);
            } else {
                for (int q = r; q < end; q++) {
                    forwardGeneralRow(q, g, gOff, bias, peep, cState, cPrevOut, cPrevOff, cOut, cRawOut, cOutOff, mOut,
                            mOff, mLd, hState, stateOff, s, e);
                }
            }
            r = end;
        }
    }

    /** {@link #forward}'s row r, active, with the general kernels. */
    private void forwardGeneralRow(int r, MemorySegment g, long gOff, MemorySegment bias, MemorySegment peep,
                                   MemorySegment cState, MemorySegment cPrevOut, long cPrevOff, MemorySegment cOut,
                                   MemorySegment cRawOut, long cOutOff, MemorySegment mOut, long mOff, int mLd,
                                   MemorySegment hState, long stateOff, MemorySegment s, float[] e) {
        int n = h;
        long rowBytes = (long) n * Float.BYTES;
        long mRow = (mOff + (long) r * mLd) * Float.BYTES;
        long gRow = (gOff + (long) r * 4 * n) * Float.BYTES;
        long cRow = (stateOff + (long) r * n) * Float.BYTES;
        if (cPrevOut != null) {
            MemorySegment.copy(cState, cRow, cPrevOut, (cPrevOff + (long) r * n) * Float.BYTES, rowBytes);
        }
        // without a second target, m is simply written twice to the same place
        MemorySegment hOut = hState != null ? hState : mOut;
        long hRow = hState != null ? cRow : mRow;
        forwardRowGeneral(n, g, gRow, bias, peep != null ? peep : zeros, cState, cRow, cRawOut,
                (cOutOff + (long) r * n) * Float.BYTES, mOut, mRow, hOut, hRow, s, e);
        if (cOut != null) {
            MemorySegment.copy(cState, cRow, cOut, (cOutOff + (long) r * n) * Float.BYTES, rowBytes);
        }
    }

    /** {@link #forward} with the standard kernels over rows that are all active, {@link #rowsPerCall} rows a call. */
    private void forwardStandardRows(int rows, MemorySegment g, long gOff, MemorySegment bias, MemorySegment peep,
                                     MemorySegment cState, MemorySegment cPrevOut, long cPrevOff, MemorySegment cOut,
                                     long cOutOff, MemorySegment mOut, long mOff, int mLd, MemorySegment hState,
                                     long stateOff, MemorySegment s, float[] e) {
        int n = h;
        MemorySegment pe = peep != null ? peep : zeros;
        boolean keep = cPrevOut != null; // training: the activations go back to g for backward
        long rowBytes = (long) n * Float.BYTES;
        long mStride = (long) mLd * Float.BYTES;
        for (int r0 = 0; r0 < rows; r0 += rowsPerCall) {
            int count = Math.min(rowsPerCall, rows - r0);
            long cRow = (stateOff + (long) r0 * n) * Float.BYTES;
            long mRow = (mOff + (long) r0 * mLd) * Float.BYTES;
            if (cPrevOut != null) {
                MemorySegment.copy(cState, cRow, cPrevOut, (cPrevOff + (long) r0 * n) * Float.BYTES,
                        count * rowBytes);
            }
            // without a second target, m is simply written twice to the same place
            StandardPointwise.forwardRows(n, count, g, (gOff + (long) r0 * 4 * n) * Float.BYTES, 4 * rowBytes, bias,
                    pe, peep != null, cState, cRow, rowBytes, mOut, mRow, mStride, hState != null ? hState : mOut,
                    hState != null ? cRow : mRow, hState != null ? rowBytes : mStride, keep, s, e);
            if (cOut != null) {
                MemorySegment.copy(cState, cRow, cOut, (cOutOff + (long) r0 * n) * Float.BYTES, count * rowBytes);
            }
        }
    }

    /**
     * Backward for rows 0..rows-1 of one step.
     *
     * @param dm      [rows, ldDm] at dmOff: gradient of the loss for m (for h when there is no projection)
     * @param dcState [rows, H]: gradient for this step's c from later steps (in); for the previous c (out), active
     *                rows only
     * @param a       [rows, 4H] at aOff: what forward left in its g (the activations, or the pre-activations)
     * @param cPrev   [rows, H] at cOff: c of the previous step; {@code c}, {@code cRaw} (or null) the same rows
     * @param peep    [3H] or null; {@code dPeep} [3H] at dPeepOff accumulates the peephole gradients (without
     *                peepholes it may receive gradients for zero peepholes, which nobody reads: the general kernels
     *                and the standard backward's scalar path (H below one vector) add them, its vector loops do not)
     * @param dA      [rows, 4H] at aOff: receives the pre-activation gradients (0 for inactive rows)
     * @param stateOff offset of row 0 in dcState; active as in forward
     */
    void backward(int rows, MemorySegment dm, long dmOff, int ldDm, MemorySegment dcState,
                  MemorySegment a, long aOff, MemorySegment cPrev, MemorySegment c, MemorySegment cRaw, long cOff,
                  MemorySegment peep, MemorySegment dPeep, long dPeepOff, MemorySegment dA, long stateOff,
                  boolean[] active, int activeOff) {
        int n = h;
        MemorySegment pe = peep != null ? peep : zeros;
        // without a cell clip c is its own unclipped value
        MemorySegment raw = cRaw != null ? cRaw : c;
        MemorySegment s = scratch.get();
        float[] e = exps.get();
        for (int r = 0; r < rows; r++) {
            if (active != null && !active[activeOff + r]) {
                VectorMath.zero(dA, aOff + (long) r * 4 * n, 4 * n);
                continue;
            }
            long aRow = (aOff + (long) r * 4 * n) * Float.BYTES;
            long dmRow = (dmOff + (long) r * ldDm) * Float.BYTES;
            long dcRow = (stateOff + (long) r * n) * Float.BYTES;
            long pRow = dPeepOff * Float.BYTES;
            long cRow = (cOff + (long) r * n) * Float.BYTES;
            if (standard) {
                StandardPointwise.backwardRow(n, dm, dmRow, dcState, dcRow, a, aRow, cPrev, c, cRow, pe,
                        peep != null, dPeep, pRow, dA, s, e);
            } else {
                backwardRowGeneral(n, dm, dmRow, dcState, dcRow, a, aRow, cPrev, c, raw, cRow, pe, dPeep, pRow,
                        dA, s, e);
            }
        }
    }

    /*
     * The general kernels (any activations, clip, cell clip, coupled input-forget gate): one row in a few passes over
     * its 4H floats, each pass a loop of its own. The activations are row operations of VectorActivation that write
     * into the thread's scratch row; no vector crosses a call (a vector passed to or returned from a method that C2
     * does not inline is boxed, at every definition, even inside the loop). Peepholes are always applied (zeros
     * without them) and the clips always clamp (to infinity without them), which changes no finite value, so the
     * loops have no branches but the optional stores. Scratch s: i, f, g, o, h(c), h'(c), H floats each. Sigmoid,
     * tanh and the peephole terms take the standard kernels' float32 operations (VectorExp, fma), so that where no
     * clip binds the two give the same bits (GeneralKernelsTest).
     */
    private void forwardRowGeneral(int n, MemorySegment g, long gRow, MemorySegment bias, MemorySegment peep,
                                   MemorySegment cState, long cRow, MemorySegment cRawOut, long cRawRow,
                                   MemorySegment mOut, long mRow, MemorySegment hOut, long hRow, MemorySegment s,
                                   float[] e) {
        long nb = (long) n * Float.BYTES;
        preActivations(n, g, gRow, bias, peep, cState, cRow);
        fAct.apply(g, gRow, s, 0, null, 0, n, e);
        if (inputForget) {
            oneMinus(n, s, 0, s, nb);
        } else {
            fAct.apply(g, gRow + nb, s, nb, null, 0, n, e);
        }
        gAct.apply(g, gRow + 2 * nb, s, 2 * nb, null, 0, n, e);
        cellUpdate(n, s, cState, cRow, cRawOut, cRawRow, cellClip, peep, g, gRow);
        fAct.apply(g, gRow + 3 * nb, s, 3 * nb, null, 0, n, e);
        hAct.apply(cState, cRow, s, 4 * nb, null, 0, n, e);
        output(n, s, mOut, mRow, hOut, hRow);
    }

    private void backwardRowGeneral(int n, MemorySegment dm, long dmRow, MemorySegment dcState, long dcRow,
                                    MemorySegment a, long aRow, MemorySegment cPrev, MemorySegment c,
                                    MemorySegment cRaw, long cRow, MemorySegment peep, MemorySegment dPeep, long pRow,
                                    MemorySegment dA, MemorySegment s, float[] e) {
        long nb = (long) n * Float.BYTES;
        // the gates' activation derivatives go to dA first; the last pass turns them into the gradients in place
        fAct.apply(a, aRow, s, 0, dA, aRow, n, e);
        if (inputForget) {
            oneMinus(n, s, 0, s, nb);
            VectorMath.zero(dA, (aRow + nb) / Float.BYTES, n);
        } else {
            fAct.apply(a, aRow + nb, s, nb, dA, aRow + nb, n, e);
        }
        gAct.apply(a, aRow + 2 * nb, s, 2 * nb, dA, aRow + 2 * nb, n, e);
        fAct.apply(a, aRow + 3 * nb, s, 3 * nb, dA, aRow + 3 * nb, n, e);
        hAct.apply(c, cRow, s, 4 * nb, s, 5 * nb, n, e);
        cellGradient(n, dm, dmRow, dcState, dcRow, c, cRaw, cRow, cellClip, peep, dPeep, pRow, dA, aRow, s);
        gateGradients(n, dcState, dcRow, cPrev, cRow, inputForget ? 1f : 0f, peep, dPeep, pRow, dA, aRow, s);
    }

    /** g row += bias, and the i and f blocks += their peephole times the previous c. Offsets count bytes. */
    private static void preActivations(int n, MemorySegment g, long gRow, MemorySegment bias, MemorySegment peep,
                                       MemorySegment cState, long cRow) {
        long nb = (long) n * Float.BYTES;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
            FloatVector ai = FloatVector.fromMemorySegment(S, peep, bj, LE).fma(cp,
                    FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                            .add(FloatVector.fromMemorySegment(S, bias, bj, LE)));
            FloatVector af = FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(cp,
                    FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                            .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE)));
            FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
            FloatVector ao = FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE));
            ai.intoMemorySegment(g, gRow + bj, LE);
            af.intoMemorySegment(g, gRow + nb + bj, LE);
            ag.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
            ao.intoMemorySegment(g, gRow + 3 * nb + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float cp = get(cState, cRow + bj);
            set(g, gRow + bj, Math.fma(get(peep, bj), cp, get(g, gRow + bj) + get(bias, bj)));
            set(g, gRow + nb + bj, Math.fma(get(peep, nb + bj), cp, get(g, gRow + nb + bj) + get(bias, nb + bj)));
            set(g, gRow + 2 * nb + bj, get(g, gRow + 2 * nb + bj) + get(bias, 2 * nb + bj));
            set(g, gRow + 3 * nb + bj, get(g, gRow + 3 * nb + bj) + get(bias, 3 * nb + bj));
        }
    }

    /** y[j] = 1 - x[j]: the forget gate coupled to the input gate. Offsets count bytes. */
    private static void oneMinus(int n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            one.sub(FloatVector.fromMemorySegment(S, x, xOff + bj, LE)).intoMemorySegment(y, yOff + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            set(y, yOff + bj, 1f - get(x, xOff + bj));
        }
    }

    /**
     * c = clamp(f * c_prev + i * g, ±cellClip) into cState (and the value before the clamp into cRawOut, if any),
     * then the o block of the pre-activations += its peephole times c. i, f, g from scratch s.
     */
    private static void cellUpdate(int n, MemorySegment s, MemorySegment cState, long cRow, MemorySegment cRawOut,
                                   long cRawRow, float cellClip, MemorySegment peep, MemorySegment g, long gRow) {
        long nb = (long) n * Float.BYTES;
        FloatVector lo = FloatVector.broadcast(S, -cellClip);
        FloatVector hi = FloatVector.broadcast(S, cellClip);
        boolean keepRaw = cRawOut != null;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
            FloatVector i = FloatVector.fromMemorySegment(S, s, bj, LE);
            FloatVector f = FloatVector.fromMemorySegment(S, s, nb + bj, LE);
            FloatVector gg = FloatVector.fromMemorySegment(S, s, 2 * nb + bj, LE);
            FloatVector cRaw = f.mul(cp).add(i.mul(gg));
            FloatVector c = cRaw.max(lo).min(hi);
            c.intoMemorySegment(cState, cRow + bj, LE);
            if (keepRaw) {
                cRaw.intoMemorySegment(cRawOut, cRawRow + bj, LE);
            }
            FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE)
                    .fma(c, FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE))
                    .intoMemorySegment(g, gRow + 3 * nb + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float cRaw = get(s, nb + bj) * get(cState, cRow + bj) + get(s, bj) * get(s, 2 * nb + bj);
            float c = Math.min(Math.max(cRaw, -cellClip), cellClip);
            set(cState, cRow + bj, c);
            if (keepRaw) {
                set(cRawOut, cRawRow + bj, cRaw);
            }
            set(g, gRow + 3 * nb + bj, Math.fma(get(peep, 2 * nb + bj), c, get(g, gRow + 3 * nb + bj)));
        }
    }

    /** m = o * h(c), o and h(c) from scratch s, into mOut and hOut. */
    private static void output(int n, MemorySegment s, MemorySegment mOut, long mRow, MemorySegment hOut, long hRow) {
        long nb = (long) n * Float.BYTES;
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector mv = FloatVector.fromMemorySegment(S, s, 3 * nb + bj, LE)
                    .mul(FloatVector.fromMemorySegment(S, s, 4 * nb + bj, LE));
            mv.intoMemorySegment(mOut, mRow + bj, LE);
            mv.intoMemorySegment(hOut, hRow + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float mv = get(s, 3 * nb + bj) * get(s, 4 * nb + bj);
            set(mOut, mRow + bj, mv);
            set(hOut, hRow + bj, mv);
        }
    }

    /**
     * Backward, first of the two last passes (two, not one: in one method C1 runs out of virtual registers, gives
     * up, and the method then stays in tier 2 code where every vector is a heap object): from the activations in
     * scratch s (i, f, g, o, h(c), h'(c)) and o's activation derivative (in dA), o's pre-activation gradient into
     * dA, o's peephole gradient added to dPeep, and the gradient for c (after the cell clip's, which passes none
     * where it clamped) into s in place of h'(c).
     */
    private static void cellGradient(int n, MemorySegment dm, long dmRow, MemorySegment dcState, long dcRow,
                                     MemorySegment c, MemorySegment cRaw, long cRow, float cellClip,
                                     MemorySegment peep, MemorySegment dPeep, long pRow, MemorySegment dA, long aRow,
                                     MemorySegment s) {
        long nb = (long) n * Float.BYTES;
        FloatVector zero = FloatVector.zero(S);
        FloatVector cc = FloatVector.broadcast(S, cellClip);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector dmv = FloatVector.fromMemorySegment(S, dm, dmRow + bj, LE);
            FloatVector dao = dmv.mul(FloatVector.fromMemorySegment(S, s, 4 * nb + bj, LE))
                    .mul(FloatVector.fromMemorySegment(S, dA, aRow + 3 * nb + bj, LE));
            FloatVector dc = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE).fma(dao,
                    FloatVector.fromMemorySegment(S, dcState, dcRow + bj, LE)
                            .add(dmv.mul(FloatVector.fromMemorySegment(S, s, 3 * nb + bj, LE))
                                    .mul(FloatVector.fromMemorySegment(S, s, 5 * nb + bj, LE))));
            FloatVector.fromMemorySegment(S, dPeep, pRow + 2 * nb + bj, LE)
                    .add(dao.mul(FloatVector.fromMemorySegment(S, c, cRow + bj, LE)))
                    .intoMemorySegment(dPeep, pRow + 2 * nb + bj, LE);
            dc.blend(zero, FloatVector.fromMemorySegment(S, cRaw, cRow + bj, LE).abs()
                    .compare(VectorOperators.GT, cc)).intoMemorySegment(s, 5 * nb + bj, LE);
            dao.intoMemorySegment(dA, aRow + 3 * nb + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float dmv = get(dm, dmRow + bj);
            float dao = dmv * get(s, 4 * nb + bj) * get(dA, aRow + 3 * nb + bj);
            float dc = Math.fma(get(peep, 2 * nb + bj), dao,
                    get(dcState, dcRow + bj) + dmv * get(s, 3 * nb + bj) * get(s, 5 * nb + bj));
            set(dPeep, pRow + 2 * nb + bj, get(dPeep, pRow + 2 * nb + bj) + dao * get(c, cRow + bj));
            set(s, 5 * nb + bj, Math.abs(get(cRaw, cRow + bj)) > cellClip ? 0f : dc);
            set(dA, aRow + 3 * nb + bj, dao);
        }
    }

    /**
     * Backward, the last pass: from the gradient for c (in s after {@link #cellGradient}), the activations i, f, g
     * (in s) and the activation derivatives of i, f, g (in dA, with the clip's gradient, f's zero when coupled),
     * the pre-activation gradients of i, f, g into dA, the previous c's gradient into dcState, the peephole
     * gradients added to dPeep. {@code coupled} is 1 with a coupled input-forget gate (dI -= dF), else 0.
     */
    private static void gateGradients(int n, MemorySegment dcState, long dcRow, MemorySegment cPrev, long cRow,
                                      float coupled, MemorySegment peep, MemorySegment dPeep, long pRow,
                                      MemorySegment dA, long aRow, MemorySegment s) {
        long nb = (long) n * Float.BYTES;
        FloatVector kc = FloatVector.broadcast(S, coupled);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector dc = FloatVector.fromMemorySegment(S, s, 5 * nb + bj, LE);
            FloatVector cp = FloatVector.fromMemorySegment(S, cPrev, cRow + bj, LE);
            FloatVector dF = dc.mul(cp);
            FloatVector dai = dc.mul(FloatVector.fromMemorySegment(S, s, 2 * nb + bj, LE)).sub(dF.mul(kc))
                    .mul(FloatVector.fromMemorySegment(S, dA, aRow + bj, LE));
            FloatVector daf = dF.mul(FloatVector.fromMemorySegment(S, dA, aRow + nb + bj, LE));
            dc.mul(FloatVector.fromMemorySegment(S, s, bj, LE))
                    .mul(FloatVector.fromMemorySegment(S, dA, aRow + 2 * nb + bj, LE))
                    .intoMemorySegment(dA, aRow + 2 * nb + bj, LE);
            FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(daf,
                    FloatVector.fromMemorySegment(S, peep, bj, LE).fma(dai,
                            dc.mul(FloatVector.fromMemorySegment(S, s, nb + bj, LE))))
                    .intoMemorySegment(dcState, dcRow + bj, LE);
            FloatVector.fromMemorySegment(S, dPeep, pRow + bj, LE).add(dai.mul(cp))
                    .intoMemorySegment(dPeep, pRow + bj, LE);
            FloatVector.fromMemorySegment(S, dPeep, pRow + nb + bj, LE).add(daf.mul(cp))
                    .intoMemorySegment(dPeep, pRow + nb + bj, LE);
            dai.intoMemorySegment(dA, aRow + bj, LE);
            daf.intoMemorySegment(dA, aRow + nb + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float dc = get(s, 5 * nb + bj);
            float cp = get(cPrev, cRow + bj);
            float dF = dc * cp;
            float dai = (dc * get(s, 2 * nb + bj) - dF * coupled) * get(dA, aRow + bj);
            float daf = dF * get(dA, aRow + nb + bj);
            set(dA, aRow + 2 * nb + bj, dc * get(s, bj) * get(dA, aRow + 2 * nb + bj));
            set(dcState, dcRow + bj,
                    Math.fma(get(peep, nb + bj), daf, Math.fma(get(peep, bj), dai, dc * get(s, nb + bj))));
            set(dPeep, pRow + bj, get(dPeep, pRow + bj) + dai * cp);
            set(dPeep, pRow + nb + bj, get(dPeep, pRow + nb + bj) + daf * cp);
            set(dA, aRow + bj, dai);
            set(dA, aRow + nb + bj, daf);
        }
    }

    /** The float at a byte offset (the row kernels' scalar lanes; {@link StandardPointwise}'s too). */
    static float get(MemorySegment seg, long byteOffset) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset);
    }

    static void set(MemorySegment seg, long byteOffset, float v) {
        seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset, v);
    }
}
