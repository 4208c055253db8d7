package dev.lstm4j.cuda.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The few device operations the kernel orchestration ({@link KernelLstm}) is written against: allocate, copy, fill,
 * a row-major GEMM, and the kernel launchers. Two implementations: {@link HostDeviceOps} (Java GEMM, the g++-built
 * kernel library, host memory) and {@link CudaDeviceOps} (cuBLAS, the nvcc-built library, GPU memory).
 * Operations on one instance are ordered as issued; {@link #synchronize()} waits for all of them.
 */
public interface DeviceOps extends AutoCloseable {

    /** Human-readable name of where this runs, for messages. */
    String name();

    /** The kernel launchers, bound to this instance's stream. */
    NativeKernels kernels();

    /** A group of allocations freed together. */
    Workspace workspace();

    /** Copies {@code bytes} bytes from a host segment into device memory. */
    void upload(MemorySegment src, DevicePtr dst, long bytes);

    /** Copies {@code bytes} bytes from device memory into a host segment; the data is there when this returns. */
    void download(DevicePtr src, MemorySegment dst, long bytes);

    /** Device-to-device copy. */
    void copy(DevicePtr src, DevicePtr dst, long bytes);

    /** Sets {@code count} floats to {@code value}. */
    default void fill(DevicePtr dst, long count, float value) {
        kernels().fill(count, value, dst);
    }

    /**
     * Row-major single-precision GEMM: C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, where op transposes
     * when asked and lda, ldb, ldc are the row strides of A, B, C as stored.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DevicePtr a, int lda, DevicePtr b,
              int ldb, float beta, DevicePtr c, int ldc);

    /** Waits for everything issued so far. */
    void synchronize();

    @Override
    void close();

    /** Allocations that share one lifetime; close frees them all (idempotent). */
    interface Workspace extends AutoCloseable {
        /** Zero-filled device memory for {@code count} floats. */
        DevicePtr floats(long count);

        /** Device memory holding {@code values} (int32). */
        DevicePtr ints(int[] values);

        @Override
        void close();
    }

    /** Checks a GEMM's arguments against its operands' sizes, before any native call. */
    static void checkGemm(boolean transA, boolean transB, int m, int n, int k, DevicePtr a, int lda, DevicePtr b,
                          int ldb, DevicePtr c, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: expected m, n, k >= 0, got " + m + ", " + n + ", " + k);
        }
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        checkOperand("A", a, aRows, aCols, lda);
        checkOperand("B", b, bRows, bCols, ldb);
        checkOperand("C", c, m, n, ldc);
    }

    private static void checkOperand(String name, DevicePtr p, int rows, int cols, int ld) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("gemm: expected ld" + name.toLowerCase() + " >= " + Math.max(1, cols)
                    + " (columns of " + name + "), got " + ld);
        }
        if (rows > 0 && cols > 0) {
            p.requireFloats("gemm operand " + name + " [" + rows + ", " + cols + "] with row stride " + ld,
                    (long) (rows - 1) * ld + cols);
        }
    }
}
