package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The pointwise part of one LSTM step for a block of batch rows, forward and backward, each in one pass over memory
 * with the Vector API. The GEMMs around it (input projection, recurrent product, projection) are done before and
 * after by BLAS; this class sees the summed pre-activations.
 *
 * <p>Equations as {@link ReferenceCell}: gates i, f, g, o from the pre-activations (plus bias, plus peepholes), the
 * ONNX clip bounding every activation's input, the cell clip bounding c, f = 1 - i with a coupled input-forget
 * gate, m = o * h(c). A row that is past its sequence's length (inactive) keeps its state, gets m = 0 and, backward,
 * a zero pre-activation gradient.
 *
 * <p>All offsets and leading dimensions count floats. Rows of the 4H-wide matrices hold i, f, g, o blocks of H.
 */
final class FusedPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    static {
        primeProfiles();
    }

    /**
     * Runs the standard kernels once for H = 7, 16 and 17 on scratch memory, so that their profiles have seen both
     * outcomes of every loop check (vector loop entered or not, scalar tail entered or not). Otherwise C2 compiles
     * them for the first shape the JVM ran, and the first H with (or without) a tail deoptimises them, back to C1
     * code where every vector is a heap object, until C2 gets round to compiling them again.
     */
    private static void primeProfiles() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            long bytes = 4L * 17 * Float.BYTES;
            MemorySegment[] m = new MemorySegment[8];
            for (int i = 0; i < m.length; i++) m[i] = arena.allocate(bytes, 64);
            for (int n : new int[] {7, 16, 17}) {
                forwardRowStandard(n, m[0], 0, m[1], m[2], m[3], 0, m[4], 0, m[4], 0);
                backwardRowStandard(n, m[4], 0, m[5], 0, m[0], 0, m[6], m[3], 0, m[2], m[7], 0, m[1]);
            }
        }
    }

    private final int h;
    private final boolean peepholes;
    private final boolean inputForget;
    private final boolean hasClip;
    private final float clip;
    private final boolean hasCellClip;
    private final float cellClip;
    private final VectorActivation fAct;
    private final VectorActivation gAct;
    private final VectorActivation hAct;
    /** Sigmoid/tanh/tanh without clip, cell clip or coupled gate: the common case, with its own small kernels. */
    private final boolean standard;
    /** [3H] zeros: the peepholes of a spec without them, so that the standard kernels have no branches. */
    private final MemorySegment zeros;

    FusedPointwise(LstmSpec spec) {
        this.h = spec.hiddenSize();
        this.peepholes = spec.peepholes();
        this.inputForget = spec.inputForget();
        this.hasClip = spec.hasClip();
        this.clip = hasClip ? (float) spec.clip() : 0f;
        this.hasCellClip = spec.hasCellClip();
        this.cellClip = hasCellClip ? (float) spec.cellClip() : 0f;
        this.fAct = new VectorActivation(spec.gateActivation());
        this.gAct = new VectorActivation(spec.cellActivation());
        this.hAct = new VectorActivation(spec.hiddenActivation());
        this.standard = spec.hasStandardActivations() && !hasClip && !hasCellClip && !inputForget;
        this.zeros = java.lang.foreign.Arena.ofAuto().allocate(3L * h * Float.BYTES, 64);
    }

    /** Where forward writes m (= h without projection), and optionally a second copy (the h state). */
    record Target(MemorySegment seg, long offset, int ld) {}

    /**
     * Forward for rows 0..rows-1.
     *
     * @param g        [rows, 4H] at gOff: pre-activations W x + R h (in); overwritten with the full pre-activations
     *                 (bias and peepholes added, before clip) for backward: with {@code keep} by the general kernel,
     *                 always by the standard one (in inference the buffer is scratch)
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
    void forward(int rows, MemorySegment g, long gOff, boolean keep, MemorySegment bias, MemorySegment peep,
                 MemorySegment cState, MemorySegment cPrevOut, long cPrevOff, MemorySegment cOut, MemorySegment cRawOut,
                 long cOutOff, MemorySegment mOut, long mOff, int mLd, MemorySegment hState, long stateOff,
                 boolean[] active, int activeOff) {
        int n = h;
        for (int r = 0; r < rows; r++) {
            long mRow = (mOff + (long) r * mLd) * Float.BYTES;
            if (active != null && !active[activeOff + r]) {
                for (int j = 0; j < n; j += S.length()) {
                    VectorMask<Float> m = j + S.length() <= n ? null : S.indexInRange(j, n);
                    VectorMath.store(FloatVector.zero(S), mOut, mRow + (long) j * Float.BYTES, m);
                }
                continue;
            }
            long gRow = (gOff + (long) r * 4 * n) * Float.BYTES;
            long cRow = (stateOff + (long) r * n) * Float.BYTES;
            long cPrevRow = (cPrevOff + (long) r * n) * Float.BYTES;
            long cOutRow = (cOutOff + (long) r * n) * Float.BYTES;
            if (standard) {
                long rowBytes = (long) n * Float.BYTES;
                if (cPrevOut != null) {
                    MemorySegment.copy(cState, cRow, cPrevOut, cPrevRow, rowBytes);
                }
                // without a second target, m is simply written twice to the same place
                forwardRowStandard(n, g, gRow, bias, peep != null ? peep : zeros, cState, cRow, mOut, mRow,
                        hState != null ? hState : mOut, hState != null ? cRow : mRow);
                if (cOut != null) {
                    MemorySegment.copy(cState, cRow, cOut, cOutRow, rowBytes);
                }
                continue;
            }
            for (int j = 0; j < n; j += S.length()) {
                VectorMask<Float> m = j + S.length() <= n ? null : S.indexInRange(j, n);
                long bj = (long) j * Float.BYTES;
                long oi = gRow + bj;
                long of = oi + (long) n * Float.BYTES;
                long og = of + (long) n * Float.BYTES;
                long oo = og + (long) n * Float.BYTES;
                long bi = bj;
                long bf = bi + (long) n * Float.BYTES;
                long bg = bf + (long) n * Float.BYTES;
                long bo = bg + (long) n * Float.BYTES;
                FloatVector cp = VectorMath.load(cState, cRow + bj, m);
                FloatVector ai = VectorMath.load(g, oi, m)
                        .add(VectorMath.load(bias, bi, m));
                FloatVector af = VectorMath.load(g, of, m)
                        .add(VectorMath.load(bias, bf, m));
                FloatVector ag = VectorMath.load(g, og, m)
                        .add(VectorMath.load(bias, bg, m));
                FloatVector ao = VectorMath.load(g, oo, m)
                        .add(VectorMath.load(bias, bo, m));
                if (peepholes) {
                    ai = ai.add(VectorMath.load(peep, bj, m).mul(cp));
                    af = af.add(VectorMath.load(peep, bj + (long) n * Float.BYTES, m).mul(cp));
                }
                FloatVector i = fAct.apply(clip(ai));
                FloatVector f = inputForget ? VectorActivation.k(1f).sub(i) : fAct.apply(clip(af));
                FloatVector gg = gAct.apply(clip(ag));
                FloatVector cRaw = f.mul(cp).add(i.mul(gg));
                FloatVector c = hasCellClip ? cRaw.max(VectorActivation.k(-cellClip)).min(VectorActivation.k(cellClip)) : cRaw;
                if (peepholes) {
                    ao = ao.add(VectorMath.load(peep, bj + 2L * n * Float.BYTES, m).mul(c));
                }
                FloatVector o = fAct.apply(clip(ao));
                FloatVector mv = o.mul(hAct.apply(clip(c)));

                VectorMath.store(c, cState, cRow + bj, m);
                VectorMath.store(mv, mOut, mRow + bj, m);
                if (hState != null) {
                    VectorMath.store(mv, hState, cRow + bj, m);
                }
                if (keep) {
                    VectorMath.store(ai, g, oi, m);
                    VectorMath.store(af, g, of, m);
                    VectorMath.store(ag, g, og, m);
                    VectorMath.store(ao, g, oo, m);
                }
                if (cPrevOut != null) {
                    VectorMath.store(cp, cPrevOut, cPrevRow + bj, m);
                }
                if (cOut != null) {
                    VectorMath.store(c, cOut, cOutRow + bj, m);
                }
                if (cRawOut != null) {
                    VectorMath.store(cRaw, cRawOut, cOutRow + bj, m);
                }
            }
        }
    }

    /**
     * Backward for rows 0..rows-1 of one step.
     *
     * @param dm      [rows, ldDm] at dmOff: gradient of the loss for m (for h when there is no projection)
     * @param dcState [rows, H]: gradient for this step's c from later steps (in); for the previous c (out), active
     *                rows only
     * @param a       [rows, 4H] at aOff: the full pre-activations forward kept
     * @param cPrev   [rows, H] at cOff: c of the previous step; {@code c}, {@code cRaw} (or null) the same rows
     * @param peep    [3H] or null; {@code dPeep} [3H] at dPeepOff accumulates the peephole gradients
     * @param dA      [rows, 4H] at aOff: receives the pre-activation gradients (0 for inactive rows)
     * @param stateOff offset of row 0 in dcState; active as in forward
     */
    void backward(int rows, MemorySegment dm, long dmOff, int ldDm, MemorySegment dcState,
                  MemorySegment a, long aOff, MemorySegment cPrev, MemorySegment c, MemorySegment cRaw, long cOff,
                  MemorySegment peep, MemorySegment dPeep, long dPeepOff, MemorySegment dA, long stateOff,
                  boolean[] active, int activeOff) {
        int n = h;
        long nb = (long) n * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            long aRow = (aOff + (long) r * 4 * n) * Float.BYTES;
            if (active != null && !active[activeOff + r]) {
                for (int j = 0; j < 4 * n; j += S.length()) {
                    VectorMask<Float> m = j + S.length() <= 4 * n ? null : S.indexInRange(j, 4 * n);
                    VectorMath.store(FloatVector.zero(S), dA, aRow + (long) j * Float.BYTES, m);
                }
                continue;
            }
            long dmRow = (dmOff + (long) r * ldDm) * Float.BYTES;
            long dcRow = (stateOff + (long) r * n) * Float.BYTES;
            long pRow = dPeepOff * Float.BYTES;
            long cRow = (cOff + (long) r * n) * Float.BYTES;
            if (standard) {
                // without peepholes: zero peepholes, and their gradients land in the (then unused) accumulator
                backwardRowStandard(n, dm, dmRow, dcState, dcRow, a, aRow, cPrev, c, cRow,
                        peep != null ? peep : zeros, dPeep, pRow, dA);
                continue;
            }
            for (int j = 0; j < n; j += S.length()) {
                VectorMask<Float> m = j + S.length() <= n ? null : S.indexInRange(j, n);
                long bj = (long) j * Float.BYTES;
                long oi = aRow + bj;
                long of = oi + nb;
                long og = of + nb;
                long oo = og + nb;
                FloatVector ai = VectorMath.load(a, oi, m);
                FloatVector ag = VectorMath.load(a, og, m);
                FloatVector ao = VectorMath.load(a, oo, m);
                FloatVector cp = VectorMath.load(cPrev, cRow + bj, m);
                FloatVector cv = VectorMath.load(c, cRow + bj, m);
                FloatVector dmv = VectorMath.load(dm, dmRow + bj, m);
                FloatVector dcNext = VectorMath.load(dcState, dcRow + bj, m);

                FloatVector xi = clip(ai);
                FloatVector i = fAct.apply(xi);
                FloatVector di = clipGrad(ai, fAct.derivative(xi, i));
                FloatVector f;
                FloatVector df = null;
                if (inputForget) {
                    f = VectorActivation.k(1f).sub(i);
                } else {
                    FloatVector af = VectorMath.load(a, of, m);
                    FloatVector xf = clip(af);
                    f = fAct.apply(xf);
                    df = clipGrad(af, fAct.derivative(xf, f));
                }
                FloatVector xg = clip(ag);
                FloatVector gg = gAct.apply(xg);
                FloatVector dg = clipGrad(ag, gAct.derivative(xg, gg));
                FloatVector xo = clip(ao);
                FloatVector o = fAct.apply(xo);
                FloatVector dOAct = clipGrad(ao, fAct.derivative(xo, o));
                FloatVector xc = clip(cv);
                FloatVector hc = hAct.apply(xc);
                FloatVector dhc = clipGrad(cv, hAct.derivative(xc, hc));

                FloatVector dao = dmv.mul(hc).mul(dOAct);
                FloatVector dc = dcNext.add(dmv.mul(o).mul(dhc));
                if (peepholes) {
                    FloatVector po = VectorMath.load(peep, bj + 2 * nb, m);
                    dc = dc.add(dao.mul(po));
                    accumulate(dPeep, pRow + bj + 2 * nb, dao.mul(cv), m);
                }
                if (hasCellClip) {
                    FloatVector raw = VectorMath.load(cRaw, cRow + bj, m);
                    dc = dc.blend(VectorActivation.k(0f), raw.abs().compare(VectorOperators.GT, VectorActivation.k(cellClip)));
                }
                FloatVector dI = dc.mul(gg);
                FloatVector dG = dc.mul(i);
                FloatVector dF = dc.mul(cp);
                FloatVector dcp = dc.mul(f);
                FloatVector daf;
                if (inputForget) {
                    dI = dI.sub(dF);
                    daf = FloatVector.zero(S);
                } else {
                    daf = dF.mul(df);
                }
                FloatVector dai = dI.mul(di);
                FloatVector dag = dG.mul(dg);
                if (peepholes) {
                    FloatVector pi = VectorMath.load(peep, bj, m);
                    FloatVector pf = VectorMath.load(peep, bj + nb, m);
                    dcp = dcp.add(dai.mul(pi)).add(daf.mul(pf));
                    accumulate(dPeep, pRow + bj, dai.mul(cp), m);
                    accumulate(dPeep, pRow + bj + nb, daf.mul(cp), m);
                }
                VectorMath.store(dai, dA, oi, m);
                VectorMath.store(daf, dA, of, m);
                VectorMath.store(dag, dA, og, m);
                VectorMath.store(dao, dA, oo, m);
                VectorMath.store(dcp, dcState, dcRow + bj, m);
            }
        }
    }

    /*
     * The standard kernels: the same equations for sigmoid/tanh/tanh without clips, one row per call, written with
     * the Vector API calls inline (no helper methods), without branches and without masks: whole vectors, then the
     * last H mod 16 lanes in scalar code. C2 then compiles each as one small unit with every vector operation
     * intrinsified, whatever else the JVM has run (partial masks and large units sent it to the slow Java fallback
     * of the Vector API); the general kernels above may still take that fallback.
     */
    private static void forwardRowStandard(int n, MemorySegment g, long gRow, MemorySegment bias,
                                           MemorySegment peep, MemorySegment cState, long cRow,
                                           MemorySegment mOut, long mRow, MemorySegment hOut, long hRow) {
        long nb = (long) n * Float.BYTES;
        FloatVector one = FloatVector.broadcast(S, 1f);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector cp = FloatVector.fromMemorySegment(S, cState, cRow + bj, LE);
            FloatVector ai = FloatVector.fromMemorySegment(S, g, gRow + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, bj, LE));
            FloatVector af = FloatVector.fromMemorySegment(S, g, gRow + nb + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, nb + bj, LE));
            FloatVector ag = FloatVector.fromMemorySegment(S, g, gRow + 2 * nb + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, 2 * nb + bj, LE));
            FloatVector ao = FloatVector.fromMemorySegment(S, g, gRow + 3 * nb + bj, LE)
                    .add(FloatVector.fromMemorySegment(S, bias, 3 * nb + bj, LE));
            ai = FloatVector.fromMemorySegment(S, peep, bj, LE).fma(cp, ai);
            af = FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(cp, af);
            FloatVector i = one.div(one.add(ai.neg().lanewise(VectorOperators.EXP)));
            FloatVector f = one.div(one.add(af.neg().lanewise(VectorOperators.EXP)));
            FloatVector gg = ag.lanewise(VectorOperators.TANH);
            FloatVector c = f.mul(cp).add(i.mul(gg));
            ao = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE).fma(c, ao);
            FloatVector o = one.div(one.add(ao.neg().lanewise(VectorOperators.EXP)));
            FloatVector mv = o.mul(c.lanewise(VectorOperators.TANH));
            c.intoMemorySegment(cState, cRow + bj, LE);
            mv.intoMemorySegment(mOut, mRow + bj, LE);
            mv.intoMemorySegment(hOut, hRow + bj, LE);
            // the full pre-activations, for backward (in inference the buffer is scratch)
            ai.intoMemorySegment(g, gRow + bj, LE);
            af.intoMemorySegment(g, gRow + nb + bj, LE);
            ag.intoMemorySegment(g, gRow + 2 * nb + bj, LE);
            ao.intoMemorySegment(g, gRow + 3 * nb + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float cp = get(cState, cRow + bj);
            float ai = get(g, gRow + bj) + get(bias, bj) + get(peep, bj) * cp;
            float af = get(g, gRow + nb + bj) + get(bias, nb + bj) + get(peep, nb + bj) * cp;
            float ag = get(g, gRow + 2 * nb + bj) + get(bias, 2 * nb + bj);
            float ao = get(g, gRow + 3 * nb + bj) + get(bias, 3 * nb + bj);
            float i = sigmoid(ai);
            float f = sigmoid(af);
            float gg = (float) Math.tanh(ag);
            float c = f * cp + i * gg;
            ao += get(peep, 2 * nb + bj) * c;
            float mv = sigmoid(ao) * (float) Math.tanh(c);
            set(cState, cRow + bj, c);
            set(mOut, mRow + bj, mv);
            set(hOut, hRow + bj, mv);
            set(g, gRow + bj, ai);
            set(g, gRow + nb + bj, af);
            set(g, gRow + 2 * nb + bj, ag);
            set(g, gRow + 3 * nb + bj, ao);
        }
    }

    private static void backwardRowStandard(int n, MemorySegment dm, long dmRow, MemorySegment dcState, long dcRow,
                                            MemorySegment a, long aRow, MemorySegment cPrev, MemorySegment c,
                                            long cRow, MemorySegment peep, MemorySegment dPeep, long pRow,
                                            MemorySegment dA) {
        long nb = (long) n * Float.BYTES;
        FloatVector one = FloatVector.broadcast(S, 1f);
        int full = n - n % S.length();
        for (int j = 0; j < full; j += S.length()) {
            long bj = (long) j * Float.BYTES;
            FloatVector i = one.div(one.add(FloatVector.fromMemorySegment(S, a, aRow + bj, LE).neg()
                    .lanewise(VectorOperators.EXP)));
            FloatVector f = one.div(one.add(FloatVector.fromMemorySegment(S, a, aRow + nb + bj, LE).neg()
                    .lanewise(VectorOperators.EXP)));
            FloatVector gg = FloatVector.fromMemorySegment(S, a, aRow + 2 * nb + bj, LE)
                    .lanewise(VectorOperators.TANH);
            FloatVector o = one.div(one.add(FloatVector.fromMemorySegment(S, a, aRow + 3 * nb + bj, LE).neg()
                    .lanewise(VectorOperators.EXP)));
            FloatVector cp = FloatVector.fromMemorySegment(S, cPrev, cRow + bj, LE);
            FloatVector cv = FloatVector.fromMemorySegment(S, c, cRow + bj, LE);
            FloatVector dmv = FloatVector.fromMemorySegment(S, dm, dmRow + bj, LE);
            FloatVector dc = FloatVector.fromMemorySegment(S, dcState, dcRow + bj, LE);
            FloatVector hc = cv.lanewise(VectorOperators.TANH);
            FloatVector dao = dmv.mul(hc).mul(o.mul(one.sub(o)));
            dc = dc.add(dmv.mul(o).mul(one.sub(hc.mul(hc))));
            dc = FloatVector.fromMemorySegment(S, peep, 2 * nb + bj, LE).fma(dao, dc);
            FloatVector.fromMemorySegment(S, dPeep, pRow + 2 * nb + bj, LE).add(dao.mul(cv))
                    .intoMemorySegment(dPeep, pRow + 2 * nb + bj, LE);
            FloatVector dai = dc.mul(gg).mul(i.mul(one.sub(i)));
            FloatVector daf = dc.mul(cp).mul(f.mul(one.sub(f)));
            FloatVector dag = dc.mul(i).mul(one.sub(gg.mul(gg)));
            FloatVector dcp = dc.mul(f);
            dcp = FloatVector.fromMemorySegment(S, peep, bj, LE).fma(dai, dcp);
            dcp = FloatVector.fromMemorySegment(S, peep, nb + bj, LE).fma(daf, dcp);
            FloatVector.fromMemorySegment(S, dPeep, pRow + bj, LE).add(dai.mul(cp))
                    .intoMemorySegment(dPeep, pRow + bj, LE);
            FloatVector.fromMemorySegment(S, dPeep, pRow + nb + bj, LE).add(daf.mul(cp))
                    .intoMemorySegment(dPeep, pRow + nb + bj, LE);
            dai.intoMemorySegment(dA, aRow + bj, LE);
            daf.intoMemorySegment(dA, aRow + nb + bj, LE);
            dag.intoMemorySegment(dA, aRow + 2 * nb + bj, LE);
            dao.intoMemorySegment(dA, aRow + 3 * nb + bj, LE);
            dcp.intoMemorySegment(dcState, dcRow + bj, LE);
        }
        for (int j = full; j < n; j++) {
            long bj = (long) j * Float.BYTES;
            float i = sigmoid(get(a, aRow + bj));
            float f = sigmoid(get(a, aRow + nb + bj));
            float gg = (float) Math.tanh(get(a, aRow + 2 * nb + bj));
            float o = sigmoid(get(a, aRow + 3 * nb + bj));
            float cp = get(cPrev, cRow + bj);
            float cv = get(c, cRow + bj);
            float dmv = get(dm, dmRow + bj);
            float hc = (float) Math.tanh(cv);
            float dao = dmv * hc * (o * (1 - o));
            float dc = get(dcState, dcRow + bj) + dmv * o * (1 - hc * hc);
            dc += get(peep, 2 * nb + bj) * dao;
            set(dPeep, pRow + 2 * nb + bj, get(dPeep, pRow + 2 * nb + bj) + dao * cv);
            float dai = dc * gg * (i * (1 - i));
            float daf = dc * cp * (f * (1 - f));
            float dag = dc * i * (1 - gg * gg);
            float dcp = dc * f + get(peep, bj) * dai + get(peep, nb + bj) * daf;
            set(dPeep, pRow + bj, get(dPeep, pRow + bj) + dai * cp);
            set(dPeep, pRow + nb + bj, get(dPeep, pRow + nb + bj) + daf * cp);
            set(dA, aRow + bj, dai);
            set(dA, aRow + nb + bj, daf);
            set(dA, aRow + 2 * nb + bj, dag);
            set(dA, aRow + 3 * nb + bj, dao);
            set(dcState, dcRow + bj, dcp);
        }
    }

    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    private static float get(MemorySegment seg, long byteOffset) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset);
    }

    private static void set(MemorySegment seg, long byteOffset, float v) {
        seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset, v);
    }

    private static void accumulate(MemorySegment seg, long off, FloatVector v, VectorMask<Float> m) {
        VectorMath.store(VectorMath.load(seg, off, m).add(v), seg, off, m);
    }

    private FloatVector clip(FloatVector x) {
        return hasClip ? x.max(VectorActivation.k(-clip)).min(VectorActivation.k(clip)) : x;
    }

    /** d clip(x)/dx is 0 where |x| > clip: the activation's derivative d is zeroed there. */
    private FloatVector clipGrad(FloatVector x, FloatVector d) {
        return hasClip ? d.blend(VectorActivation.k(0f), x.abs().compare(VectorOperators.GT, VectorActivation.k(clip))) : d;
    }
}
