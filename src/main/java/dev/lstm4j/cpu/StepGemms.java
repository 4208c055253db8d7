package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The matrix products inside one recurrence's steps, and the packing of the weights they read; rows are the
 * recurrence's batch rows b0.. of a step whose first sequence row is row0:
 * <ul>
 *   <li>the recurrent product alone: forward g [rows, 4H] += h [rows, P] W_hh^T, backward dh [rows, P] =
 *   dA [rows, 4H] W_hh, on W_hh packed once per call ({@link PackedGemm}; OpenBLAS for the columns past the last
 *   whole panel), its panels split over a lone recurrence's team;</li>
 *   <li>fused steps: forward g [rows, 4H] = [x_t h] [rows, I + P] [W_ih W_hh]^T, backward
 *   [dx dh] [rows, I + P] = dA [rows, 4H] [W_ih W_hh], on both packed side by side;</li>
 *   <li>one row, or a few rows and steps on weights packed per call ({@link FastCpuPlan#gemvSteps}): the same
 *   products on sgemv a row at a time from the weights as they are ({@link OneRowStep}), nothing packed.</li>
 * </ul>
 * Packed weights go to the recurrence's {@link FastCpuWorkspace.Dir#whhPacked}; frozen parameters keep theirs
 * across calls ({@link FrozenPacks}). The packed kernel reads its A rows from the Dir's heap row buffer stepRows.
 */
final class StepGemms {
    private final LstmSpec spec;
    private final FastCpuPlan plan;
    private final int threads;
    private final CpuThreads threadPool;
    private final FrozenPacks frozenPacks;

    StepGemms(LstmSpec spec, FastCpuPlan plan, int threads, CpuThreads threadPool, FrozenPacks frozenPacks) {
        this.spec = spec;
        this.plan = plan;
        this.threads = threads;
        this.threadPool = threadPool;
        this.frozenPacks = frozenPacks;
    }

    /**
     * Packs W_hh of layer l (every direction; fused, [W_ih W_hh]) for {@link PackedGemm} when the packed path applies
     * to this batch, in the forward layout (B = W_hh^T) or the backward one (B = W_hh), the panels split over the
     * threads. Returns how many threads split each step's GEMM by column panels (1 when the recurrences already
     * occupy the threads), or 0 for OpenBLAS; with {@link FastCpuPlan#gemvSteps} it packs nothing and returns how
     * many split each step's sgemv by outputs. With {@code readsWhh} false (no step of the call reads W_hh: one step
     * from a zero state, not fused) it packs nothing either and returns the same split, for the pointwise step's
     * rows: packing W_hh had been most of such a call on weights too large to fuse (two layers of 650, T = 1, B = 2
     * to 8, 2 threads: 1.8-2.5 ms against 1.1-1.3 without it).
     */
    int packLayer(LstmParams params, FastCpuWorkspace ws, int l, int batch, int seqLength, boolean backward,
                  boolean fused, boolean readsWhh, Set<String> ran) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        if (!plan.packed()) {
            return 0;
        }
        int recurrences = plan.recurrences(batch);
        if (plan.gemvSteps(batch, seqLength, params.isFrozen())) {
            // sgemv on W_hh itself, split by its rows (forward) or columns (backward) over a lone recurrence's team
            int outputs = backward ? p : h4;
            return recurrences == 1 ? Math.max(1, Math.min(threads, outputs / 16)) : 1;
        }
        int in = spec.layerInputSize(l);
        int panels = panels(fused, backward, in);
        int parts = Math.max(1, Math.min(threads, panels));
        if (!readsWhh) {
            return recurrences == 1 ? parts : 1;
        }
        for (int d = 0; d < spec.numDirections(); d++) {
            MemorySegment wih = params.weightIh(l, d).segment();    // [4H, I]
            MemorySegment whh = params.weightHh(l, d).segment();    // [4H, P]
            Consumer<float[]> pack = packed -> threadPool.parallel(parts, k ->
                    packPanels(fused, backward, wih, in, whh, packed, panels * k / parts, panels * (k + 1) / parts),
                    ran);
            frozenPacks.packInto(ws.dir(l, d), params, layoutName(fused, backward), l, d,
                    packedFloats(fused, backward, in), pack);
        }
        return recurrences == 1 ? parts : 1;
    }

    /**
     * Packs layer l's [W_ih W_hh] (one direction) into dir on this thread, as fused steps read it: forward as
     * B = [W_ih W_hh]^T (n = 4H), backward as B = [W_ih W_hh] (n = I + P).
     */
    private void packFused(LstmParams params, FastCpuWorkspace.Dir dir, int l, boolean backward) {
        int in = spec.layerInputSize(l);
        MemorySegment wih = params.weightIh(l, 0).segment(); // [4H, I]
        MemorySegment whh = params.weightHh(l, 0).segment(); // [4H, P]
        int panels = panels(true, backward, in);
        frozenPacks.packInto(dir, params, layoutName(true, backward), l, 0, packedFloats(true, backward, in),
                packed -> packPanels(true, backward, wih, in, whh, packed, 0, panels));
    }

    /**
     * A pipeline stage's forward, as it starts: layer l's [W_ih W_hh] in the forward layout into dir.whhPacked, and
     * in training, for parameters that may change, the backward layout too, into dir.backwardPacked, which
     * {@link #packFusedBackward} then takes instead of packing. Panel by panel: each forward panel reads 32 rows of
     * the weights, and the backward layout's same 32 rows of every panel are packed from them right after, from
     * cache. The backward had packed its layout at its start, from memory: in ptb-small's training step (timeline,
     * medians) the forward's packing went from 0.30-0.36 to 0.41 ms a layer and the backward's 0.16-0.34 ms went;
     * paired, the step took 0.985 and 0.981 of the time. Frozen parameters keep both layouts already
     * ({@link FrozenPacks}).
     */
    void packFusedForward(LstmParams params, FastCpuWorkspace.Dir dir, int l, boolean training) {
        dir.backwardPacked = null;
        if (!training || params.isFrozen()) {
            packFused(params, dir, l, false);
            return;
        }
        int in = spec.layerInputSize(l);
        int p = spec.outputSize();
        int h4 = 4 * spec.hiddenSize();
        MemorySegment wih = params.weightIh(l, 0).segment(); // [4H, I]
        MemorySegment whh = params.weightHh(l, 0).segment(); // [4H, P]
        float[] forward = dir.ownPacked();
        float[] backward = dir.ownBackwardPacked();
        int plainPanels = panels(true, true, in);
        for (int j = 0; j < panels(true, false, in); j++) {
            PackedGemm.packTransposed(wih, in, whh, p, h4, forward, j, j + 1);
            int k0 = j * PackedGemm.NR;
            PackedGemm.packPlain(wih, in, whh, p, h4, backward, 0, plainPanels, k0, Math.min(h4, k0 + PackedGemm.NR));
        }
        dir.whhPacked = forward;
        dir.backwardPacked = backward;
    }

    /** A pipeline stage's backward, as it starts: the layout its training forward packed, or layer l's packed now. */
    void packFusedBackward(LstmParams params, FastCpuWorkspace.Dir dir, int l) {
        if (dir.backwardPacked != null) {
            dir.whhPacked = dir.backwardPacked;
        } else {
            packFused(params, dir, l, true);
        }
    }

    /** The panels to pack: fused, every covering panel of B (the last one partial); else W_hh's whole panels. */
    private int panels(boolean fused, boolean backward, int in) {
        int n = backward ? (fused ? in + spec.outputSize() : spec.outputSize()) : 4 * spec.hiddenSize();
        return fused ? PackedGemm.coveringPanels(n) : PackedGemm.panels(n);
    }

    private int packedFloats(boolean fused, boolean backward, int in) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        if (fused) {
            return backward ? PackedGemm.coveredSize(h4, in + p) : PackedGemm.coveredSize(in + p, h4);
        }
        return backward ? PackedGemm.packedSize(h4, p) : PackedGemm.packedSize(p, h4);
    }

    private static String layoutName(boolean fused, boolean backward) {
        return fused ? (backward ? "fused plain" : "fused") : backward ? "plain" : "transposed";
    }

    /** Panels j0..j1-1 of W_hh [4H, P] (fused: [W_ih W_hh], W_ih [4H, I]) in the forward or backward layout. */
    private void packPanels(boolean fused, boolean backward, MemorySegment wih, int in, MemorySegment whh,
                            float[] packed, int j0, int j1) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        if (fused && backward) {
            PackedGemm.packPlain(wih, in, whh, p, h4, packed, j0, j1);
        } else if (fused) {
            PackedGemm.packTransposed(wih, in, whh, p, h4, packed, j0, j1);
        } else if (backward) {
            PackedGemm.packPlain(whh, p, null, 0, h4, packed, j0, j1);
        } else {
            PackedGemm.packTransposed(whh, p, null, 0, h4, packed, j0, j1);
        }
    }

    /**
     * One fused step: g [rows, 4H] at gOff = [x_t h_{t-1}] [rows, I + P] x [W_ih W_hh]^T, with the rows of x
     * (sequence rows from row0, leading dimension xLd) and of hState (batch rows from b0) copied side by side to
     * the heap, and the partial last panel through the Dir's stepOut. With {@code zeroState} (h_{t-1} is zero: the
     * first step from no initial state) only W_ih's rows of each panel are read: x_t W_ih^T. With {@code gemv} (one
     * row) two sgemv from W_ih [4H, I] and W_hh [4H, P] as they are.
     */
    void fusedForward(MemorySegment wih, MemorySegment whh, FastCpuWorkspace.Dir dir, int in, int rows,
                      MemorySegment x, long row0, int xLd, int b0, MemorySegment g, long gOff, boolean gemv,
                      boolean zeroState) {
        int p = spec.outputSize();
        int h4 = 4 * spec.hiddenSize();
        if (gemv) {
            OneRowStep.forward(rows, wih, in, whh, p, h4, x, row0 * xLd, xLd, dir.hState, (long) b0 * p, g, gOff,
                    zeroState);
            return;
        }
        int k = in + p;
        int depth = zeroState ? in : k;
        float[] a = dir.stepRows;
        int at = b0 * k;
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (row0 + r) * xLd * Float.BYTES, a, at + r * k, in);
            if (!zeroState) {
                MemorySegment.copy(dir.hState, ValueLayout.JAVA_FLOAT, ((long) b0 + r) * p * Float.BYTES, a,
                        at + r * k + in, p);
            }
        }
        PackedGemm.multiplyFirstRows(depth, rows, h4, k, a, at, k, dir.whhPacked, false, g, gOff, h4, 0,
                PackedGemm.panels(h4));
        PackedGemm.multiplyLastPanelFirstRows(depth, rows, h4, k, a, at, k, dir.whhPacked, g, gOff, h4, dir.stepOut,
                (long) b0 * PackedGemm.NR);
    }

    /** The leading dimension of a fused backward step's output in stepOut: I + P up to whole panels. */
    static int fusedBackwardWidth(int in, int p) {
        return PackedGemm.coveringPanels(in + p) * PackedGemm.NR;
    }

    /**
     * One fused backward step's product: [dx_t dh_{t-1}] [rows, I + P] = dA_t [rows, 4H] (sequence rows from row0)
     * x [W_ih W_hh] [4H, I + P], every covering panel (padded columns are zero) into the Dir's stepOut from row b0,
     * leading dimension {@link #fusedBackwardWidth}. With {@code gemv} two sgemv a row on W_ih and W_hh as they
     * are.
     */
    void fusedBackward(MemorySegment wih, MemorySegment whh, FastCpuWorkspace.Dir dir, int in, int rows, long row0,
                       int b0, boolean gemv) {
        int p = spec.outputSize();
        int h4 = 4 * spec.hiddenSize();
        int ldo = fusedBackwardWidth(in, p);
        long outOff = (long) b0 * ldo;
        if (gemv) {
            OneRowStep.backward(rows, wih, in, whh, p, h4, dir.dA, row0 * h4, dir.stepOut, outOff, ldo);
            return;
        }
        float[] a = dir.stepRows;
        int at = b0 * h4;
        MemorySegment.copy(dir.dA, ValueLayout.JAVA_FLOAT, row0 * h4 * Float.BYTES, a, at, rows * h4);
        PackedGemm.multiply(rows, ldo, h4, a, at, h4, dir.whhPacked, false, dir.stepOut, outOff, ldo, 0,
                PackedGemm.panels(ldo));
    }

    /**
     * One step's recurrent GEMM on the packed W_hh: forward ({@code backward} false) g [rows, 4H] += h [rows, P]
     * W_hh^T; backward dh [rows, P] = dA [rows, 4H] W_hh. A's rows (dense at aOff) are copied to the heap; the
     * whole panels are split over the team (null: this thread alone; a team only when this recurrence is the only
     * one) and the last n mod NR columns, which are not packed, go to OpenBLAS on the last part. With {@code gemv}
     * ({@link FastCpuPlan#gemvSteps}) it is sgemv a row on W_hh itself, split by outputs.
     */
    void recurrent(FastCpuWorkspace.Dir dir, MemorySegment whh, boolean backward, int rows, MemorySegment a, long aOff,
                   int b0, MemorySegment c, long cOff, TeamStep team, boolean gemv) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        int n = backward ? p : h4;
        int k = backward ? h4 : p;
        int at = b0 * k;
        if (!gemv) { // the packed kernel reads A from the heap; sgemv reads it where it is
            MemorySegment.copy(a, ValueLayout.JAVA_FLOAT, aOff * Float.BYTES, dir.stepRows, at, rows * k);
        }
        if (team == null) {
            recurrentPart(gemv, dir.whhPacked, whh, backward, rows, n, k, dir.stepRows, at, a, aOff, c, cOff, 0, 1);
        } else {
            team.gemm(gemv, backward, rows, n, k, at, a, aOff, c, cOff);
        }
    }

    /**
     * One forward step's gates where no team splits it: gates [rows, 4H] at gOff (the Dir's gStep at the step's
     * batch rows) = h [rows, P] (dense at hOff) x W_hh^T + the projection's rows of the step (proj [rows, 4H] at
     * projOff, rows of the whole-sequence g [T*B, 4H]). The product runs from zero and the projection's rows are
     * added after, in one sequential pass. Adding the product to g's rows in place, as a team's step does, starts
     * each row block's accumulators from 5 rows of 4 lines 8 KB apart (large-batch), which come from memory where g
     * outgrows L3 (large-batch's is 52 MB; one core, [32 x 512] x [512 x 2048] adding to the same cached C each
     * call ran at 240 GFLOP/s, to the next of 200 such Cs at 211); and a product from zero takes 6-row blocks
     * where 5-row ones leave rows ({@link PackedGemm}: 32 rows a batch chunk). Time with over time without, 2
     * threads, alternating 1-s blocks in one JVM, both orders: large-batch inference 0.928 and 0.924 against the
     * product added to a copy of the rows in gStep, which itself had been 0.936 and 0.955 against g in place;
     * training 0.979 and 0.951; ptb-medium-bidirectional inference 0.976 and 1.010. A team's step keeps adding to
     * g in place (a copy of the rows there, by the leader alone, made ptb-medium inference 1.071 and 1.008 as
     * slow). With {@code gemv} sgemv adds to the projection's rows copied into gates, a row at a time.
     */
    void recurrentOnProjection(FastCpuWorkspace.Dir dir, MemorySegment whh, int rows, MemorySegment h, long hOff,
                               int b0, MemorySegment proj, long projOff, MemorySegment gates, long gOff,
                               boolean gemv) {
        int h4 = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        if (gemv) {
            MemorySegment.copy(proj, projOff * Float.BYTES, gates, gOff * Float.BYTES, (long) rows * h4 * Float.BYTES);
            recurrent(dir, whh, false, rows, h, hOff, b0, gates, gOff, null, true);
            return;
        }
        int at = b0 * p;
        MemorySegment.copy(h, ValueLayout.JAVA_FLOAT, hOff * Float.BYTES, dir.stepRows, at, rows * p);
        packedPart(dir.whhPacked, whh, false, false, rows, h4, p, dir.stepRows, at, h, hOff, gates, gOff, 0, 1);
        VectorMath.add(gates, gOff, proj, projOff, gates, gOff, rows * h4);
    }

    /**
     * Part q of parts of {@link #recurrent}: its range of whole panels, and the unpacked tail columns if last; with
     * {@code gemv}, its range of outputs on sgemv ({@link OneRowStep#recurrentPart}).
     */
    static void recurrentPart(boolean gemv, float[] packed, MemorySegment whh, boolean backward, int rows, int n, int k,
                              float[] aRows, int at, MemorySegment a, long aOff, MemorySegment c, long cOff, int q,
                              int parts) {
        if (gemv) {
            OneRowStep.recurrentPart(rows, whh, backward, n, k, a, aOff, c, cOff, q, parts);
            return;
        }
        packedPart(packed, whh, backward, !backward, rows, n, k, aRows, at, a, aOff, c, cOff, q, parts);
    }

    /**
     * The first whole panel of part q of parts (q = parts: the end) of a step's product whose n columns end in
     * n mod NR tail columns: the tail, which the last part runs on OpenBLAS, counts as one panel in the split, so
     * that the last part takes one whole panel fewer where the split allows. A team waits for its slowest part every
     * step: ptb-medium's 81 whole panels and 8 tail columns had gone 40 against 41 plus the tail (4.4 us on
     * OpenBLAS beside 146 us for 40 panels), and now go 41 against 40 plus the tail: ptb-medium inference, time
     * with over time without, 2 threads, alternating blocks in one JVM, both orders: 0.983 and 0.989.
     */
    static int firstPanel(int q, int parts, int n) {
        int panels = PackedGemm.panels(n);
        int units = panels * PackedGemm.NR < n ? panels + 1 : panels;
        return Math.min(panels, (int) ((long) units * q / parts));
    }

    /**
     * Part q of parts of a step's product on the packed kernel, its whole panels and, if last, the unpacked tail
     * columns on OpenBLAS: forward C [rows, 4H] (+)= A W_hh^T, added to C where {@code add}; backward C [rows, P] =
     * dA W_hh.
     */
    private static void packedPart(float[] packed, MemorySegment whh, boolean backward, boolean add, int rows, int n,
                                   int k, float[] aRows, int at, MemorySegment a, long aOff, MemorySegment c, long cOff,
                                   int q, int parts) {
        int panels = PackedGemm.panels(n);
        PackedGemm.multiply(rows, n, k, aRows, at, k, packed, add, c, cOff, n, firstPanel(q, parts, n),
                firstPanel(q + 1, parts, n));
        int tail0 = panels * PackedGemm.NR;
        if (q == parts - 1 && tail0 < n) {
            if (backward) { // W_hh [k = 4H, n = P]: its last columns
                OpenBlas.sgemm(false, false, rows, n - tail0, k, 1f, a, aOff, k, whh, tail0, n, 0f, c, cOff + tail0, n);
            } else {        // W_hh [n = 4H, k = P]: its last rows, transposed
                OpenBlas.sgemm(false, true, rows, n - tail0, k, 1f, a, aOff, k, whh, (long) tail0 * k, k,
                        add ? 1f : 0f, c, cOff + tail0, n);
            }
        }
    }
}
