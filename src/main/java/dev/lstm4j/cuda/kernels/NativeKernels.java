package dev.lstm4j.cuda.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The FFM bindings of the kernel launchers (native/lstm4j_kernels.cu), in one typed place. Each method checks every
 * range it passes against the sizes it passes (before the downcall), then checks the returned status and turns a
 * failure into a {@link KernelException} naming the call, the status and its text.
 *
 * <p>One instance is bound to a library and a stream (0: the default stream; ignored by the host build).
 */
public final class NativeKernels {
    private static final Linker LINKER = Linker.nativeLinker();

    private final KernelLibrary library;
    private final long stream;
    private final Handles h;

    private record Handles(MethodHandle buildInfo, MethodHandle statusText, MethodHandle deviceCount,
                           MethodHandle forwardPointwise,
                           MethodHandle backwardPointwise, MethodHandle seqCopy, MethodHandle maskSelect,
                           MethodHandle add, MethodHandle multiply, MethodHandle fill, MethodHandle columnSum) {}

    private NativeKernels(KernelLibrary library, long stream, Handles h) {
        this.library = library;
        this.stream = stream;
        this.h = h;
    }

    /** Binds the launchers of {@code library} (loading it if needed), on the default stream. */
    public static NativeKernels bind(KernelLibrary library) {
        SymbolLookup lookup = library.lookup();
        MemoryLayout i = JAVA_INT;
        MemoryLayout l = JAVA_LONG;
        MemoryLayout f = JAVA_FLOAT;
        MemoryLayout[] act = {i, f, f};
        Handles h = new Handles(
                handle(library, lookup, "lstm4j_build_info", FunctionDescriptor.of(ADDRESS)),
                handle(library, lookup, "lstm4j_status_text", FunctionDescriptor.of(ADDRESS, JAVA_INT)),
                handle(library, lookup, "lstm4j_device_count", FunctionDescriptor.of(JAVA_INT, l)),
                handle(library, lookup, "lstm4j_forward_pointwise", FunctionDescriptor.of(JAVA_INT,
                        concat(new MemoryLayout[] {l, i, i, l, l, l, l, l, l, l, l, i}, act, act, act,
                                new MemoryLayout[] {i, i, f, i, f, l, l, l, l, l, l}))),
                handle(library, lookup, "lstm4j_backward_pointwise", FunctionDescriptor.of(JAVA_INT,
                        concat(new MemoryLayout[] {l, i, i, l, l, l, l, l, l, l, l, l, i}, act, act, act,
                                new MemoryLayout[] {i, i, f, i, f, l, l}))),
                handle(library, lookup, "lstm4j_seq_copy",
                        FunctionDescriptor.of(JAVA_INT, l, i, i, i, l, l, l, l, l, l, l, i, i)),
                handle(library, lookup, "lstm4j_mask_select", FunctionDescriptor.of(JAVA_INT, l, i, i, l, l, l, i, l)),
                handle(library, lookup, "lstm4j_add", FunctionDescriptor.of(JAVA_INT, l, l, l, l, l)),
                handle(library, lookup, "lstm4j_multiply", FunctionDescriptor.of(JAVA_INT, l, l, l, l, l)),
                handle(library, lookup, "lstm4j_fill", FunctionDescriptor.of(JAVA_INT, l, l, f, l)),
                handle(library, lookup, "lstm4j_column_sum", FunctionDescriptor.of(JAVA_INT, l, i, i, l, l, i)));
        return new NativeKernels(library, 0L, h);
    }

    /** The same bindings launching on {@code cudaStream} (a cudaStream_t as an integer; 0 is the default stream). */
    public NativeKernels onStream(long cudaStream) {
        return new NativeKernels(library, cudaStream, h);
    }

    public KernelLibrary library() {
        return library;
    }

    /** "host" or "cuda": which compiler built the library. */
    public String buildInfo() {
        try {
            return ((MemorySegment) h.buildInfo.invokeExact()).reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw rethrow("lstm4j_build_info", t);
        }
    }

    /**
     * The number of devices the library's own (static) CUDA runtime sees; 1 for the host build. Fails with the
     * runtime's status when this build cannot run here (no driver, or a driver older than the CUDA it was built with).
     */
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) h.deviceCount.invokeExact(out.address());
            } catch (Throwable t) {
                throw rethrow("lstm4j_device_count", t);
            }
            check("lstm4j_device_count", status);
            return out.get(JAVA_INT, 0);
        }
    }

    /** The library's text for a status code. */
    public String statusText(int status) {
        try {
            return ((MemorySegment) h.statusText.invokeExact(status)).reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw rethrow("lstm4j_status_text", t);
        }
    }

    /**
     * One LSTM step forward (kernels/lstm_pointwise.cuh, lstm_forward_pointwise). Sizes: gx, gh [B, 4H]; biases [4H];
     * peep [3H] or NULL; cPrev, cOut, mOut [B, H]; hPrev, hOut [B, H] or both NULL; lengths int32 [B]; preOut,
     * gatesOut [B, 4H] and crawOut [B, H] all given (training) or all NULL.
     */
    public void forwardPointwise(int batch, int hidden, DevicePtr gx, DevicePtr gh, DevicePtr biasIh, DevicePtr biasHh,
                                 DevicePtr peep, DevicePtr cPrev, DevicePtr hPrev, DevicePtr lengths, int step,
                                 CellOptions o, DevicePtr cOut, DevicePtr mOut, DevicePtr hOut, DevicePtr preOut,
                                 DevicePtr gatesOut, DevicePtr crawOut) {
        long bh = (long) batch * hidden;
        gx.requireFloats("gx", 4 * bh);
        gh.requireFloats("gh", 4 * bh);
        biasIh.requireFloats("biasIh", 4L * hidden);
        biasHh.requireFloats("biasHh", 4L * hidden);
        optional(peep, "peep", 3L * hidden);
        cPrev.requireFloats("cPrev", bh);
        lengths.require("lengths", batch, Integer.BYTES);
        cOut.requireFloats("cOut", bh);
        mOut.requireFloats("mOut", bh);
        if (hOut.isNull() != hPrev.isNull()) {
            throw new IllegalArgumentException("hPrev, hOut: expected both or neither, got only "
                    + (hOut.isNull() ? "hPrev" : "hOut"));
        }
        optional(hPrev, "hPrev", bh);
        optional(hOut, "hOut", bh);
        if (preOut.isNull() != gatesOut.isNull() || preOut.isNull() != crawOut.isNull()) {
            throw new IllegalArgumentException("preOut, gatesOut, crawOut: expected all three or none");
        }
        optional(preOut, "preOut", 4 * bh);
        optional(gatesOut, "gatesOut", 4 * bh);
        optional(crawOut, "crawOut", bh);
        int status;
        try {
            status = (int) h.forwardPointwise.invokeExact(stream, batch, hidden, gx.address(), gh.address(),
                    biasIh.address(), biasHh.address(), peep.address(), cPrev.address(), hPrev.address(),
                    lengths.address(), step, o.fKind(), o.fAlpha(), o.fBeta(), o.gKind(), o.gAlpha(), o.gBeta(),
                    o.hKind(), o.hAlpha(), o.hBeta(), flag(o.inputForget()), flag(o.hasClip()), o.clip(),
                    flag(o.hasCellClip()), o.cellClip(), cOut.address(), mOut.address(), hOut.address(),
                    preOut.address(), gatesOut.address(), crawOut.address());
        } catch (Throwable t) {
            throw rethrow("lstm4j_forward_pointwise", t);
        }
        check("lstm4j_forward_pointwise", status);
    }

    /**
     * One LSTM step backward (lstm_backward_pointwise). Sizes: dm, dc, craw, cPrev, cCur [B, H]; pre, gates,
     * daOut [B, 4H]; peep [3H] or NULL; dpeepOut [B, 3H] or NULL; lengths int32 [B]. dc is updated in place.
     */
    public void backwardPointwise(int batch, int hidden, DevicePtr dm, DevicePtr dc, DevicePtr pre, DevicePtr gates,
                                  DevicePtr craw, DevicePtr cPrev, DevicePtr cCur, DevicePtr peep, DevicePtr lengths,
                                  int step, CellOptions o, DevicePtr daOut, DevicePtr dpeepOut) {
        long bh = (long) batch * hidden;
        dm.requireFloats("dm", bh);
        dc.requireFloats("dc", bh);
        pre.requireFloats("pre", 4 * bh);
        gates.requireFloats("gates", 4 * bh);
        craw.requireFloats("craw", bh);
        cPrev.requireFloats("cPrev", bh);
        cCur.requireFloats("cCur", bh);
        optional(peep, "peep", 3L * hidden);
        lengths.require("lengths", batch, Integer.BYTES);
        daOut.requireFloats("daOut", 4 * bh);
        optional(dpeepOut, "dpeepOut", 3 * bh);
        if (!dpeepOut.isNull() && peep.isNull()) {
            throw new IllegalArgumentException("dpeepOut: expected NULL without peepholes, got a range");
        }
        int status;
        try {
            status = (int) h.backwardPointwise.invokeExact(stream, batch, hidden, dm.address(), dc.address(),
                    pre.address(), gates.address(), craw.address(), cPrev.address(), cCur.address(), peep.address(),
                    lengths.address(), step, o.fKind(), o.fAlpha(), o.fBeta(), o.gKind(), o.gAlpha(), o.gBeta(),
                    o.hKind(), o.hAlpha(), o.hBeta(), flag(o.inputForget()), flag(o.hasClip()), o.clip(),
                    flag(o.hasCellClip()), o.cellClip(), daOut.address(), dpeepOut.address());
        } catch (Throwable t) {
            throw rethrow("lstm4j_backward_pointwise", t);
        }
        check("lstm4j_backward_pointwise", status);
    }

    /**
     * dst(t, b, k) (+)= src(t', b, k) over [steps, batch, width], element (t, b, k) at t*strideT + b*strideB + k
     * (strides in floats). With lengths (int32 [B], or NULL) steps past a sequence's length give 0, and
     * {@code reverse} reverses each sequence within its length.
     */
    public void seqCopy(int steps, int batch, int width, DevicePtr src, long srcStrideT, long srcStrideB,
                        DevicePtr dst, long dstStrideT, long dstStrideB, DevicePtr lengths, boolean reverse,
                        boolean accumulate) {
        if (steps < 0 || batch < 0 || width < 0 || srcStrideT < 0 || srcStrideB < 0 || dstStrideT < 0 || dstStrideB < 0) {
            throw new IllegalArgumentException("seqCopy: expected sizes and strides >= 0, got steps=" + steps
                    + ", batch=" + batch + ", width=" + width + ", strides " + srcStrideT + "/" + srcStrideB + " -> "
                    + dstStrideT + "/" + dstStrideB);
        }
        if (steps > 0 && batch > 0 && width > 0) {
            src.requireFloats("seqCopy src", (steps - 1) * srcStrideT + (batch - 1) * srcStrideB + width);
            dst.requireFloats("seqCopy dst", (steps - 1) * dstStrideT + (batch - 1) * dstStrideB + width);
        }
        optionalInts(lengths, "lengths", batch);
        int status;
        try {
            status = (int) h.seqCopy.invokeExact(stream, steps, batch, width, src.address(), srcStrideT, srcStrideB,
                    dst.address(), dstStrideT, dstStrideB, lengths.address(), flag(reverse), flag(accumulate));
        } catch (Throwable t) {
            throw rethrow("lstm4j_seq_copy", t);
        }
        check("lstm4j_seq_copy", status);
    }

    /** out[b, k] = step < lengths[b] ? whenActive[b, k] : whenInactive[b, k], all [batch, width]; out may alias. */
    public void maskSelect(int batch, int width, DevicePtr whenActive, DevicePtr whenInactive, DevicePtr lengths,
                           int step, DevicePtr out) {
        long n = (long) batch * width;
        whenActive.requireFloats("whenActive", n);
        whenInactive.requireFloats("whenInactive", n);
        out.requireFloats("out", n);
        lengths.require("lengths", batch, Integer.BYTES);
        int status;
        try {
            status = (int) h.maskSelect.invokeExact(stream, batch, width, whenActive.address(), whenInactive.address(),
                    lengths.address(), step, out.address());
        } catch (Throwable t) {
            throw rethrow("lstm4j_mask_select", t);
        }
        check("lstm4j_mask_select", status);
    }

    /** out = a + b over {@code n} floats; out may alias a or b. */
    public void add(long n, DevicePtr a, DevicePtr b, DevicePtr out) {
        elementwise("lstm4j_add", h.add, n, a, b, out);
    }

    /** out = a * b over {@code n} floats; out may alias a or b. */
    public void multiply(long n, DevicePtr a, DevicePtr b, DevicePtr out) {
        elementwise("lstm4j_multiply", h.multiply, n, a, b, out);
    }

    public void fill(long n, float value, DevicePtr out) {
        out.requireFloats("fill out", n);
        int status;
        try {
            status = (int) h.fill.invokeExact(stream, n, value, out.address());
        } catch (Throwable t) {
            throw rethrow("lstm4j_fill", t);
        }
        check("lstm4j_fill", status);
    }

    /** dst[c] (+)= sum over rows of src[r, c]; src [rows, cols], dst [cols]. */
    public void columnSum(int rows, int cols, DevicePtr src, DevicePtr dst, boolean accumulate) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("columnSum: expected rows, cols >= 0, got " + rows + ", " + cols);
        }
        src.requireFloats("columnSum src", (long) rows * cols);
        dst.requireFloats("columnSum dst", cols);
        int status;
        try {
            status = (int) h.columnSum.invokeExact(stream, rows, cols, src.address(), dst.address(), flag(accumulate));
        } catch (Throwable t) {
            throw rethrow("lstm4j_column_sum", t);
        }
        check("lstm4j_column_sum", status);
    }

    private void elementwise(String call, MethodHandle mh, long n, DevicePtr a, DevicePtr b, DevicePtr out) {
        a.requireFloats(call + " a", n);
        b.requireFloats(call + " b", n);
        out.requireFloats(call + " out", n);
        int status;
        try {
            status = (int) mh.invokeExact(stream, n, a.address(), b.address(), out.address());
        } catch (Throwable t) {
            throw rethrow(call, t);
        }
        check(call, status);
    }

    private void check(String call, int status) {
        if (status != 0) {
            throw new KernelException(call + " (" + library.fileName() + ") failed with status " + status + ": "
                    + statusText(status));
        }
    }

    private static void optional(DevicePtr p, String name, long floats) {
        if (!p.isNull()) {
            p.requireFloats(name, floats);
        }
    }

    private static void optionalInts(DevicePtr p, String name, long ints) {
        if (!p.isNull()) {
            p.require(name, ints, Integer.BYTES);
        }
    }

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    private static MethodHandle handle(KernelLibrary library, SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new KernelException(
                "kernel library " + library.fileName() + ": expected symbol " + name + ", found none (stale build?)"));
        return LINKER.downcallHandle(symbol, fd);
    }

    private static MemoryLayout[] concat(MemoryLayout[]... parts) {
        int n = 0;
        for (MemoryLayout[] p : parts) n += p.length;
        MemoryLayout[] all = new MemoryLayout[n];
        int at = 0;
        for (MemoryLayout[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new KernelException(call + ": downcall failed: " + t, t);
    }
}
