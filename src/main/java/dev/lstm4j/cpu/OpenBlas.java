package dev.lstm4j.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few OpenBLAS entry points the fast CPU backend needs, as FFM downcalls on {@link MemorySegment}s.
 *
 * <p>JavaCPP ({@code org.bytedeco:openblas}) extracts the native library from its jar and loads it; the calls then go
 * through the Panama linker rather than JNI, so the backend passes its host memory as segments. Every call checks
 * that each matrix, with its leading dimension, lies inside its segment before the native code runs, so a bad size
 * fails with an exception instead of touching memory outside a segment.
 *
 * <p>Matrices are row-major ({@code CblasRowMajor}); offsets and leading dimensions count floats.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private static final Loaded LOADED = load();

    private record Loaded(MethodHandle sgemm, MethodHandle sgemv, MethodHandle setThreads, MethodHandle getThreads,
                          MethodHandle corename, String failure) {}

    private OpenBlas() {}

    /** Empty when OpenBLAS is loaded; otherwise why it could not be. */
    public static Optional<String> loadFailure() {
        return Optional.ofNullable(LOADED.failure());
    }

    public static boolean isLoaded() {
        return LOADED.failure() == null;
    }

    private static Loaded load() {
        try {
            Class<?> presets = Class.forName("org.bytedeco.openblas.global.openblas_nolapack");
            String jniPath = org.bytedeco.javacpp.Loader.load(presets);
            SymbolLookup lookup = lookupFor(jniPath);
            Linker linker = Linker.nativeLinker();
            ValueLayout i = ValueLayout.JAVA_INT;
            ValueLayout f = ValueLayout.JAVA_FLOAT;
            ValueLayout p = ValueLayout.ADDRESS;
            MethodHandle sgemm = linker.downcallHandle(find(lookup, "cblas_sgemm"),
                    FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, p, i, p, i, f, p, i));
            MethodHandle sgemv = linker.downcallHandle(find(lookup, "cblas_sgemv"),
                    FunctionDescriptor.ofVoid(i, i, i, i, f, p, i, p, i, f, p, i));
            MethodHandle set = linker.downcallHandle(find(lookup, "openblas_set_num_threads"),
                    FunctionDescriptor.ofVoid(i));
            MethodHandle get = linker.downcallHandle(find(lookup, "openblas_get_num_threads"),
                    FunctionDescriptor.of(i));
            MethodHandle core = linker.downcallHandle(find(lookup, "openblas_get_corename"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(
                            java.lang.foreign.MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE))));
            return new Loaded(sgemm, sgemv, set, get, core, null);
        } catch (Throwable e) {
            return new Loaded(null, null, null, null, null,
                    "OpenBLAS (org.bytedeco:openblas natives for " + System.getProperty("os.name") + "/"
                            + System.getProperty("os.arch") + ") could not be loaded: " + e);
        }
    }

    /** JavaCPP puts libopenblas.so.0 beside the JNI library it loaded; fall back to the loader's libraries. */
    private static SymbolLookup lookupFor(String jniPath) {
        if (jniPath != null) {
            Path dir = Path.of(jniPath).getParent();
            for (String name : new String[] {"libopenblas.so.0", "libopenblas_nolapack.so.0", "libopenblas.dylib",
                    "libopenblas.0.dylib", "openblas.dll", "libopenblas.dll"}) {
                Path candidate = dir.resolve(name);
                if (Files.exists(candidate)) {
                    return SymbolLookup.libraryLookup(candidate, Arena.global());
                }
            }
        }
        return SymbolLookup.loaderLookup();
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("OpenBLAS symbol " + name + " not found"));
    }

    private static Loaded require() {
        if (LOADED.failure() != null) {
            throw new IllegalStateException(LOADED.failure());
        }
        return LOADED;
    }

    /** OpenBLAS's thread count for later calls (process-wide: OpenBLAS keeps one setting). */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        try {
            require().setThreads().invokeExact(threads);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("openblas_set_num_threads(" + threads + ") failed: " + e, e);
        }
    }

    public static int threads() {
        try {
            return (int) require().getThreads().invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("openblas_get_num_threads() failed: " + e, e);
        }
    }

    /** The CPU kernel set OpenBLAS picked at run time (e.g. "SkylakeX"). */
    public static String coreName() {
        try {
            MemorySegment s = (MemorySegment) require().corename().invokeExact();
            return s.getString(0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("openblas_get_corename() failed: " + e, e);
        }
    }

    /**
     * Most rows of A that {@link #sgemm} hands to sgemv, one call a row. Each sgemv reads all of B, where sgemm packs
     * B (a read and a write) and then runs its kernel on the few rows; one core, m rows of sgemm against m sgemv, B =
     * W^T and W, medians: m = 2, [2 x 128] x [128 x 512] 26.8 / 37.1 us against 5.6 / 5.0, [2 x 650] x [650 x 2600]
     * 865 / 827 against 163 / 147; m = 4, 25.3 / 30.4 against 12.8 / 10.7 and 653 / 734 against 308 / 306, the
     * least gain 7.3 against 6.2 us at [4 x 28] x [28 x 512] (W^T); m = 8 goes either way (0.49 to 1.85 of sgemm's
     * time over the same shapes), so sgemm keeps it. Zen 5 VM, 2026-12-07.
     */
    static final int SGEMV_ROWS = 4;

    /**
     * C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n, C is m x n. Offsets are in
     * floats from the start of each segment. Up to {@link #SGEMV_ROWS} rows of A (A not transposed) go to sgemv
     * instead, a row at a time: sgemm packs its B operand on every call, however few the rows, where sgemv reads it
     * as it is (one core, a step's [1 x 1024] x [1024 x 256]: 111 us on sgemm, 9.7 on sgemv; the input projection of
     * one sequence row at two layers of 650, 2 threads: 0.93 -> 0.27 ms a call).
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float alpha, MemorySegment a, long aOffset, int lda,
                             MemorySegment b, long bOffset, int ldb,
                             float beta, MemorySegment c, long cOffset, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        MethodHandle h = require().sgemm();
        if (k <= 0) {
            throw new IllegalArgumentException("sgemm: expected k >= 1, got " + k);
        }
        MemorySegment as = checked("A", a, aOffset, transA ? k : m, transA ? m : k, lda);
        MemorySegment bs = checked("B", b, bOffset, transB ? n : k, transB ? k : n, ldb);
        MemorySegment cs = checked("C", c, cOffset, m, n, ldc);
        if (m <= SGEMV_ROWS && !transA) { // C's row i = op(B)^T A's row i: B [n, k] times it, or B [k, n] transposed
            for (int i = 0; i < m; i++) {
                sgemv(!transB, transB ? n : k, transB ? k : n, alpha, b, bOffset, ldb, a, aOffset + (long) i * lda,
                        beta, c, cOffset + (long) i * ldc);
            }
            return;
        }
        try {
            h.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                    alpha, as, lda, bs, ldb, beta, cs, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cblas_sgemm failed: " + e, e);
        }
    }

    /** y = alpha * op(A) * x + beta * y, row-major A of m x n stored with leading dimension lda; unit strides. */
    public static void sgemv(boolean transA, int m, int n, float alpha, MemorySegment a, long aOffset, int lda,
                             MemorySegment x, long xOffset, float beta, MemorySegment y, long yOffset) {
        if (m <= 0 || n <= 0) {
            return;
        }
        MethodHandle h = require().sgemv();
        MemorySegment as = checked("A", a, aOffset, m, n, lda);
        MemorySegment xs = checked("x", x, xOffset, 1, transA ? m : n, transA ? m : n);
        MemorySegment ys = checked("y", y, yOffset, 1, transA ? n : m, transA ? n : m);
        try {
            h.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, m, n, alpha, as, lda, xs, 1, beta, ys, 1);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cblas_sgemv failed: " + e, e);
        }
    }

    /** The slice of {@code seg} a rows x cols row-major matrix with leading dimension ld occupies, checked. */
    private static MemorySegment checked(String name, MemorySegment seg, long offset, int rows, int cols, int ld) {
        if (ld < cols || ld < 1) {
            throw new IllegalArgumentException("sgemm/sgemv " + name + ": expected leading dimension >= " + cols
                    + ", got " + ld);
        }
        long floats = (long) (rows - 1) * ld + cols;
        long end = Math.addExact(offset, floats) * Float.BYTES;
        if (offset < 0 || end > seg.byteSize()) {
            throw new IndexOutOfBoundsException("sgemm/sgemv " + name + ": a " + rows + "x" + cols + " matrix (ld "
                    + ld + ") at float offset " + offset + " needs " + end + " bytes, the segment has "
                    + seg.byteSize());
        }
        return seg.asSlice(offset * Float.BYTES, floats * Float.BYTES);
    }
}
