package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The weight gradients of one layer from the whole sequence at once, after its backward recurrence has left dA
 * [T*B, 4H] in each direction's Dir: dW_ih = dA^T X, dW_hh = dA^T H_prev, db = dA^T 1, dW_hr = dH^T M, and dW_peep
 * as the sum of the recurrences' accumulators. dW_ih and dW_hh run on {@link PackedGemm} where
 * {@link FastCpuPlan#packedGradients}, else on OpenBLAS; db and dW_hr always on OpenBLAS.
 */
final class WeightGradients {
    private final LstmSpec spec;
    private final CpuThreads threadPool;
    private final boolean packed;

    WeightGradients(LstmSpec spec, CpuThreads threadPool, boolean packed) {
        this.spec = spec;
        this.threadPool = threadPool;
        this.packed = packed;
    }

    /**
     * Layer l's gradients into grads, every product split by output rows (gates) across the threads. x [rows, I_l]
     * is the layer's input, dense.
     */
    void ofLayer(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x, Set<String> ran) {
        int gates = 4 * spec.hiddenSize();
        int parts = threadPool.partsFor(gates);
        if (packed) {
            packedProducts(grads, ws, l, rows, x, parts, ran);
        } else {
            threadPool.parallel(parts, k -> {
                int m0 = CpuThreads.cut(gates, parts, k);
                int m1 = CpuThreads.cut(gates, parts, k + 1);
                for (int d = 0; d < spec.numDirections(); d++) {
                    FastCpuWorkspace.Dir dir = ws.dir(l, d);
                    blasProducts(grads, dir, l, d, rows, x, m0, m1);
                    bias(grads, ws, dir, l, d, rows, m0, m1);
                    projection(grads, dir, l, d, rows, k, parts);
                }
            }, ran);
        }
        gather(grads, ws, l);
    }

    /**
     * A pipeline's layers' gradients (one direction) as {@link PipelineGradients} shares them out, for one backward
     * call: x.apply(l) is layer l's input [rows, I_l], dense.
     */
    PipelineGradients.LayerWork forPipeline(LstmParams grads, FastCpuWorkspace ws, int rows,
                                            IntFunction<MemorySegment> x) {
        return new PipelineGradients.LayerWork() {
            @Override
            public void prepare(int l) {
                prepareStage(grads, ws, l, rows, x.apply(l));
            }

            @Override
            public void rows(int l, int own, int r0, int r1) {
                stageRows(grads, ws, l, own, rows, x.apply(l), r0, r1);
            }

            @Override
            public void gather(int l) {
                WeightGradients.this.gather(grads, ws, l);
            }
        };
    }

    /**
     * What a pipeline's layer l needs before its gradients' rows ({@link #stageRows}) can be taken, on the calling
     * thread: X [rows, I_l] and H_prev packed into the layer's own buffers for the packed products, and dW_hr.
     */
    private void prepareStage(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x) {
        FastCpuWorkspace.Dir dir = ws.dir(l, 0);
        if (packed) {
            FastCpuWorkspace.GradientBuffers buffers = ws.gradients(l);
            int layerIn = spec.layerInputSize(l);
            int p = spec.outputSize();
            PackedGemm.packPlain(x, layerIn, null, 0, rows, buffers.packedX, 0, panelsToPack(l, layerIn));
            PackedGemm.packPlain(dir.hPrev[l], p, null, 0, rows, buffers.packedH, 0, panelsToPack(l, p));
            if (sharedTails(l)) packTails(x, layerIn, dir.hPrev[l], p, rows, buffers.packedTails);
        }
        projection(grads, dir, l, 0, rows, 0, 1);
    }

    /**
     * Rows r0..r1-1 (gates; whole row blocks) of a pipeline's layer l's dW_ih, dW_hh and db, on the calling thread,
     * after {@link #prepareStage}. The calling thread is the stage of layer {@code own}, whose buffer for chunks of
     * dA^T it uses. Rows of a layer may be taken by several threads at once, each its own range.
     */
    private void stageRows(LstmParams grads, FastCpuWorkspace ws, int l, int own, int rows, MemorySegment x, int r0,
                           int r1) {
        FastCpuWorkspace.Dir dir = ws.dir(l, 0);
        if (packed) {
            packedRows(grads, dir, ws.gradients(l), ws.gradients(own).chunks[0], l, 0, rows, r0, r1);
        } else {
            blasProducts(grads, dir, l, 0, rows, x, r0, r1);
        }
        bias(grads, ws, dir, l, 0, rows, r0, r1);
    }

    /** dW_ih and dW_hh rows m0..m1-1 of layer l, direction d, on OpenBLAS (this thread). */
    private void blasProducts(LstmParams grads, FastCpuWorkspace.Dir dir, int l, int d, int rows, MemorySegment x,
                              int m0, int m1) {
        int gates = 4 * spec.hiddenSize();
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        OpenBlas.sgemm(true, false, m1 - m0, layerIn, rows, 1f, dir.dA, m0, gates, x, 0, layerIn,
                0f, grads.weightIh(l, d).segment(), (long) m0 * layerIn, layerIn);
        OpenBlas.sgemm(true, false, m1 - m0, p, rows, 1f, dir.dA, m0, gates, dir.hPrev[l], 0, p,
                0f, grads.weightHh(l, d).segment(), (long) m0 * p, p);
    }

    /** After the products of layer l: db_hh = db_ih, and dW_peep as the sum of its accumulators. */
    private void gather(LstmParams grads, FastCpuWorkspace ws, int l) {
        int h = spec.hiddenSize();
        for (int d = 0; d < spec.numDirections(); d++) {
            FastCpuWorkspace.Dir dir = ws.dir(l, d);
            MemorySegment.copy(grads.biasIh(l, d).segment(), 0, grads.biasHh(l, d).segment(), 0,
                    4L * h * Float.BYTES);
            if (spec.peepholes()) {
                MemorySegment dp = grads.weightPeep(l, d).segment();
                // every accumulator: one per batch chunk, or one per team part of a single recurrence
                int accumulators = (int) (dir.dPeep.byteSize() / (3L * h * Float.BYTES));
                MemorySegment.copy(dir.dPeep, 0, dp, 0, 3L * h * Float.BYTES);
                for (int c = 1; c < accumulators; c++) {
                    VectorMath.add(dp, 0, dir.dPeep, 3L * h * c, dp, 0, 3 * h);
                }
            }
        }
    }

    /**
     * Gate rows a part of {@link #packedProducts} claims at a time: the kernel's chunk of rows (a multiple of both
     * row blocks, 4 and 8), so that each claim packs and multiplies one whole chunk. The parts claim these in turn
     * rather than take a share each: on this project's VMs one vCPU often runs slower than the other, and the part
     * that finished its share first then waited for the other. Every row is computed the same way whichever part
     * claims it. Zen 3 VM, 2 threads, time with over time without, two builds a call each in turn in one JVM
     * (medians of 40-300 pairs, both orders where two figures): ptb-medium training 0.944 and 0.999, large-batch
     * training 0.988 and 0.977, seed-mnist training 0.991.
     */
    static final int CLAIMED_ROWS = PackedGemm.ROW_CHUNK;

    /**
     * {@link #ofLayer} with dW_ih = dA^T X and dW_hh = dA^T H_prev on {@link PackedGemm}: X packed as B once, and per
     * direction H_prev (split across the threads), then both products by ranges of rows (gates) that the parts
     * claim in turn ({@link #CLAIMED_ROWS}), each part packing its chunks of dA^T into its own buffer as it goes; db
     * by GEMV and dW_hr on OpenBLAS as there.
     */
    private void packedProducts(LstmParams grads, FastCpuWorkspace ws, int l, int rows, MemorySegment x, int parts,
                                Set<String> ran) {
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        int gates = 4 * spec.hiddenSize();
        int units = (gates + CLAIMED_ROWS - 1) / CLAIMED_ROWS;
        int panelsX = panelsToPack(l, layerIn);
        int panelsH = panelsToPack(l, p);
        boolean tails = sharedTails(l);
        FastCpuWorkspace.GradientBuffers buffers = ws.gradients(0);
        for (int d = 0; d < spec.numDirections(); d++) {
            FastCpuWorkspace.Dir dir = ws.dir(l, d);
            int direction = d;
            // X is the same for both directions: packed with the first one's H_prev
            boolean packX = d == 0;
            threadPool.parallel(parts, k -> {
                if (packX) {
                    PackedGemm.packPlain(x, layerIn, null, 0, rows, buffers.packedX, panelsX * k / parts,
                            panelsX * (k + 1) / parts);
                }
                PackedGemm.packPlain(dir.hPrev[l], p, null, 0, rows, buffers.packedH, panelsH * k / parts,
                        panelsH * (k + 1) / parts);
                if (tails && k == parts - 1) packTails(x, layerIn, dir.hPrev[l], p, rows, buffers.packedTails);
            }, ran);
            AtomicInteger nextUnit = new AtomicInteger(); // the next CLAIMED_ROWS gate rows to claim
            threadPool.parallel(parts, k -> {
                for (int u = nextUnit.getAndIncrement(); u < units; u = nextUnit.getAndIncrement()) {
                    int r0 = u * CLAIMED_ROWS;
                    int r1 = Math.min(gates, r0 + CLAIMED_ROWS);
                    packedRows(grads, dir, buffers, buffers.chunks[k], l, direction, rows, r0, r1);
                    bias(grads, ws, dir, l, direction, rows, r0, r1);
                }
                projection(grads, dir, l, direction, rows, k, parts);
            }, ran);
        }
    }

    /**
     * dW_ih and dW_hh rows r0..r1-1 (whole row blocks) of layer l, direction d, on {@link PackedGemm} (this thread),
     * from X and H_prev packed in buffers, with chunk for this thread's chunks of dA^T.
     */
    private void packedRows(LstmParams grads, FastCpuWorkspace.Dir dir, FastCpuWorkspace.GradientBuffers buffers,
                            float[] chunk, int l, int d, int rows, int r0, int r1) {
        int p = spec.outputSize();
        int layerIn = spec.layerInputSize(l);
        int gates = 4 * spec.hiddenSize();
        MemorySegment wih = grads.weightIh(l, d).segment();  // [4H, I_l]
        MemorySegment whh = grads.weightHh(l, d).segment();  // [4H, P]
        long scratchOff = (long) r0 * PackedGemm.NR; // X's last panel at rows r0.., H's 4H rows further
        if (!sharedTails(l)) {
            PackedGemm.multiplyTransposed(dir.dA, 0, gates, rows, r0, r1, chunk,
                    new PackedGemm.Product(buffers.packedX, layerIn, wih, 0, layerIn, buffers.scratch, scratchOff),
                    new PackedGemm.Product(buffers.packedH, p, whh, 0, p, buffers.scratch,
                            (long) gates * PackedGemm.NR + scratchOff));
            return;
        }
        int wholeX = PackedGemm.panels(layerIn) * PackedGemm.NR;
        int wholeH = PackedGemm.panels(p) * PackedGemm.NR;
        int tailX = layerIn - wholeX;
        int tailH = p - wholeH;
        List<PackedGemm.Product> products = new ArrayList<>(3);
        if (wholeX > 0) products.add(new PackedGemm.Product(buffers.packedX, wholeX, wih, 0, layerIn, null, 0));
        if (wholeH > 0) products.add(new PackedGemm.Product(buffers.packedH, wholeH, whh, 0, p, null, 0));
        products.add(new PackedGemm.Product(buffers.packedTails, tailX + tailH, buffers.tails, 0, PackedGemm.NR,
                buffers.scratch, scratchOff));
        PackedGemm.multiplyTransposed(dir.dA, 0, gates, rows, r0, r1, chunk,
                products.toArray(PackedGemm.Product[]::new));
        for (int r = r0; r < r1; r++) { // [4H, NR] rows: X's last columns, then H's
            long from = (long) r * PackedGemm.NR * Float.BYTES;
            MemorySegment.copy(buffers.tails, from, wih, ((long) r * layerIn + wholeX) * Float.BYTES,
                    (long) tailX * Float.BYTES);
            MemorySegment.copy(buffers.tails, from + (long) tailX * Float.BYTES, whh,
                    ((long) r * p + wholeH) * Float.BYTES, (long) tailH * Float.BYTES);
        }
    }

    /**
     * Whether layer l's dW_ih and dW_hh compute their last columns together, in one panel (shared tails): where
     * neither I_l nor P is a multiple of the panel width NR and their remainders fit one panel. Each product's
     * partial last panel costs a whole one (NR columns of work for I_l mod NR or P mod NR of result); shared, they
     * cost one: ptb-small (I = P = 200, NR = 32) computes 13 panels a row block instead of 14, ptb-medium 41 instead
     * of 42. The same dot products in the same order, so the same bits.
     */
    private boolean sharedTails(int l) {
        int nr = PackedGemm.NR;
        int tailX = spec.layerInputSize(l) % nr;
        int tailH = spec.outputSize() % nr;
        return tailX > 0 && tailH > 0 && tailX + tailH <= nr;
    }

    /** The panels of X or H_prev (n columns) that the products read: whole ones only where the tails are shared. */
    private int panelsToPack(int l, int n) {
        return sharedTails(l) ? PackedGemm.panels(n) : PackedGemm.coveringPanels(n);
    }

    /**
     * The shared tails panel, packed as {@link PackedGemm#packPlain} packs one ([rows][NR]): row k holds X's last
     * I mod NR columns of its row k, then H_prev's last P mod NR; the columns past them are computed but never
     * copied out, so whatever they hold does not matter.
     */
    private static void packTails(MemorySegment x, int layerIn, MemorySegment hPrev, int p, int rows, float[] tails) {
        int nr = PackedGemm.NR;
        int wholeX = layerIn - layerIn % nr;
        int wholeH = p - p % nr;
        int tailX = layerIn - wholeX;
        int tailH = p - wholeH;
        for (int k = 0; k < rows; k++) {
            int at = k * nr;
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, ((long) k * layerIn + wholeX) * Float.BYTES, tails, at,
                    tailX);
            MemorySegment.copy(hPrev, ValueLayout.JAVA_FLOAT, ((long) k * p + wholeH) * Float.BYTES, tails,
                    at + tailX, tailH);
        }
    }

    /** db_ih rows r0..r1-1 = dA^T 1, a GEMV on OpenBLAS (both ways of taking the weight gradients). */
    private void bias(LstmParams grads, FastCpuWorkspace ws, FastCpuWorkspace.Dir dir, int l, int d, int rows, int r0,
                      int r1) {
        OpenBlas.sgemv(true, rows, r1 - r0, 1f, dir.dA, r0, 4 * spec.hiddenSize(), ws.ones, 0, 0f,
                grads.biasIh(l, d).segment(), r0);
    }

    /**
     * Part k of parts of dW_hr = dH^T M on OpenBLAS, where there is a projection: its rows (of P). Every part takes
     * its share beside its rows of dW_ih and dW_hh; part 0 had taken all of dW_hr on top of its share while the
     * others waited (I = 256, H = 1024, P = 256, T = 50, B = 16: dW_hr is 0.42 GFLOP; 2 threads, paired, a training
     * step took 0.948 of the time).
     */
    private void projection(LstmParams grads, FastCpuWorkspace.Dir dir, int l, int d, int rows, int k, int parts) {
        int p = spec.projSize();
        int p0 = CpuThreads.cut(p, parts, k);
        int p1 = CpuThreads.cut(p, parts, k + 1);
        if (p1 > p0) {
            int h = spec.hiddenSize();
            OpenBlas.sgemm(true, false, p1 - p0, h, rows, 1f, dir.dh, p0, p, dir.m[l], 0, h, 0f,
                    grads.weightHr(l, d).segment(), (long) p0 * h, h);
        }
    }
}
