package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * The per-step products with W_hr [P, H] of an LSTM with a projection, for some rows of one recurrence: forward
 * h [rows, P] = m [rows, H] W_hr^T, backward dL/dm [rows, H] = dL/dh [rows, P] W_hr. Where the steps' recurrent
 * products run on the packed kernel, these do too, on W_hr packed once per call ({@link #prepare}; frozen
 * parameters keep theirs, {@link FrozenPacks}) and OpenBLAS for the columns past the last whole panel; elsewhere
 * (one row, {@code blas}) on OpenBLAS. OpenBLAS packs W_hr again on every call, so at every step: one core, one
 * step's forward product, OpenBLAS against the packed kernel with its row copy: [16 x 1024] x [1024 x 256] 171
 * against 40 us, [64 x 1024] x [1024 x 256] 376 against 150, [128 x 512] x [512 x 128] 169 against 75. One row
 * on OpenBLAS is a sgemv ({@link OpenBlas#sgemm}), which reads W_hr as it is: [1 x 1024] x [1024 x 256] 9.7 us,
 * against 10.4 for the packed kernel.
 */
final class StepProjection {
    private final LstmSpec spec;
    private final FrozenPacks frozenPacks;

    StepProjection(LstmSpec spec, FrozenPacks frozenPacks) {
        this.spec = spec;
        this.frozenPacks = frozenPacks;
    }

    /**
     * Sets dir's packed W_hr for the steps about to run of layer l, direction d: packed now in the forward
     * (B = W_hr^T [H, P]) or backward (B = W_hr [P, H]) layout where {@code packed} and there is a whole panel,
     * otherwise none, so that the steps run on OpenBLAS (never on a layout packed for an earlier call, whose weights
     * may have changed since). Does nothing without a projection.
     */
    void prepare(LstmParams params, FastCpuWorkspace.Dir dir, int l, int d, boolean backward, boolean packed) {
        if (spec.projSize() == 0) {
            return;
        }
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        int n = backward ? h : p;
        int panels = PackedGemm.panels(n);
        if (!packed || panels == 0) {
            dir.whrPacked = null;
            return;
        }
        MemorySegment whr = params.weightHr(l, d).segment(); // [P, H]
        Consumer<float[]> pack = backward
                ? into -> PackedGemm.packPlain(whr, h, null, 0, p, into, 0, panels)
                : into -> PackedGemm.packTransposed(whr, h, null, 0, p, into, 0, panels);
        int floats = PackedGemm.packedSize(backward ? p : h, n);
        String layout = (backward ? "W_hr plain" : "W_hr") + " layer " + l + " direction " + d;
        dir.whrPacked = frozenPacks.packed(params, layout, floats, dir::ownProjectionPacked, pack);
    }

    /** out [rows, P] (at outOff, leading dimension width) = m [rows, H] (dense at mOff) W_hr^T; b0: the first row. */
    void forward(FastCpuWorkspace.Dir dir, MemorySegment whr, int rows, int b0, MemorySegment m, long mOff,
                 MemorySegment out, long outOff, int width) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        float[] packed = dir.whrPacked;
        int tail0 = 0;
        if (packed != null) {
            int at = b0 * h;
            MemorySegment.copy(m, ValueLayout.JAVA_FLOAT, mOff * Float.BYTES, dir.projectionRows, at, rows * h);
            PackedGemm.multiply(rows, p, h, dir.projectionRows, at, h, packed, false, out, outOff, width, 0,
                    PackedGemm.panels(p));
            tail0 = PackedGemm.panels(p) * PackedGemm.NR;
        }
        if (tail0 < p) { // W_hr's last rows, transposed
            OpenBlas.sgemm(false, true, rows, p - tail0, h, 1f, m, mOff, h, whr, (long) tail0 * h, h, 0f, out,
                    outOff + tail0, width);
        }
    }

    /** dm [rows, H] (dense at dmOff) = dh [rows, P] (dense at dhOff) W_hr; b0: the first row. */
    void backward(FastCpuWorkspace.Dir dir, MemorySegment whr, int rows, int b0, MemorySegment dh, long dhOff,
                  MemorySegment dm, long dmOff) {
        int h = spec.hiddenSize();
        int p = spec.outputSize();
        float[] packed = dir.whrPacked;
        int tail0 = 0;
        if (packed != null) {
            int at = b0 * h; // P <= H: the rows fit where forward's m rows go
            MemorySegment.copy(dh, ValueLayout.JAVA_FLOAT, dhOff * Float.BYTES, dir.projectionRows, at, rows * p);
            PackedGemm.multiply(rows, h, p, dir.projectionRows, at, p, packed, false, dm, dmOff, h, 0,
                    PackedGemm.panels(h));
            tail0 = PackedGemm.panels(h) * PackedGemm.NR;
        }
        if (tail0 < h) { // W_hr's last columns
            OpenBlas.sgemm(false, false, rows, h - tail0, p, 1f, dh, dhOff, p, whr, tail0, h, 0f, dm, dmOff + tail0,
                    h);
        }
    }
}
