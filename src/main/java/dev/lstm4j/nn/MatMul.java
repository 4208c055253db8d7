package dev.lstm4j.nn;

import dev.lstm4j.cpu.OpenBlas;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.util.stream.IntStream;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense row-major matrix products for the layers around the LSTM (Linear, the heads). Float32 tensors go to
 * OpenBLAS's sgemm (the fast CPU backend's binding) when it is loaded; otherwise, and for float arrays, a Vector API
 * kernel (4 rows x one vector of columns per register block, the B panel kept in L1); float64 runs the same blocking
 * with DoubleVector, so gradient checks in float64 go through the same loop structure. Large products are split over
 * column blocks on the common pool; each output element is computed by one thread in a fixed order, so results do not
 * depend on the number of threads.
 */
public final class MatMul {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Products smaller than this many multiply-adds run on the calling thread. */
    private static final long PARALLEL_MIN_WORK = 1L << 21;

    private MatMul() {}

    /**
     * {@code out = op(a) . op(b)} or, with {@code accumulate}, {@code out += op(a) . op(b)}, where op transposes a
     * 2-D tensor when its flag is set. a: [m, k] ([k, m] if transA), b: [k, n] ([n, k] if transB), out: [m, n].
     */
    public static void multiply(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate) {
        require2d("a", a);
        require2d("b", b);
        require2d("out", out);
        int m = a.shape().intDim(transA ? 1 : 0);
        int k = a.shape().intDim(transA ? 0 : 1);
        int kb = b.shape().intDim(transB ? 1 : 0);
        int n = b.shape().intDim(transB ? 0 : 1);
        if (k != kb) {
            throw new IllegalArgumentException("b: expected inner dimension " + k + " (from a " + a.shape()
                    + (transA ? " transposed" : "") + "), got b " + b.shape() + (transB ? " transposed" : ""));
        }
        if (out.shape().dim(0) != m || out.shape().dim(1) != n) {
            throw new IllegalArgumentException("out: expected shape [" + m + ", " + n + "], got " + out.shape());
        }
        if (a.dtype() != out.dtype() || b.dtype() != out.dtype()) {
            throw new IllegalArgumentException("dtypes: expected a, b and out of one dtype, got " + a.dtype() + ", "
                    + b.dtype() + ", " + out.dtype());
        }
        if (out.dtype() == DType.FLOAT32 && OpenBlas.isLoaded()) {
            blas(a, transA, b, transB, out, accumulate, m, n, k);
        } else if (out.dtype() == DType.FLOAT32) {
            float[] av = a.toFloatArray();
            float[] bv = b.toFloatArray();
            float[] cv = accumulate ? out.toFloatArray() : new float[m * n];
            multiply(transA ? transpose(av, k, m) : av, transB ? transpose(bv, n, k) : bv, cv, m, n, k);
            out.copyFrom(cv);
        } else {
            double[] av = a.toDoubleArray();
            double[] bv = b.toDoubleArray();
            double[] cv = accumulate ? out.toDoubleArray() : new double[m * n];
            multiply(transA ? transpose(av, k, m) : av, transB ? transpose(bv, n, k) : bv, cv, m, n, k);
            out.copyFrom(cv);
        }
    }

    /**
     * OpenBLAS runs single-threaded in lstm4j (the fast CPU backend keeps it so); a large product is split here by
     * rows of the output, one sgemm call per chunk on the common pool. Each output element is computed by one call, so
     * the result does not depend on how the rows were split.
     */
    private static void blas(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate,
                             int m, int n, int k) {
        int lda = a.shape().intDim(1);
        int ldb = b.shape().intDim(1);
        float beta = accumulate ? 1f : 0f;
        int chunks = (long) m * n * k < PARALLEL_MIN_WORK * 4 ? 1
                : Math.min(Runtime.getRuntime().availableProcessors(), Math.max(1, m / 16));
        if (chunks <= 1 || !a.isAccessibleByAnyThread() || !b.isAccessibleByAnyThread()
                || !out.isAccessibleByAnyThread()) {
            OpenBlas.sgemm(transA, transB, m, n, k, 1f, a.segment(), 0, lda, b.segment(), 0, ldb, beta, out.segment(), 0, n);
            return;
        }
        int per = (m + chunks - 1) / chunks;
        IntStream.range(0, chunks).parallel().forEach(ch -> {
            int r0 = ch * per;
            int rows = Math.min(m, r0 + per) - r0;
            if (rows <= 0) return;
            long aOffset = transA ? r0 : (long) r0 * lda; // op(A) row r0 is A's column r0 when transposed
            OpenBlas.sgemm(transA, transB, rows, n, k, 1f, a.segment(), aOffset, lda, b.segment(), 0, ldb, beta,
                    out.segment(), (long) r0 * n, n);
        });
    }

    /** c[m, n] += a[m, k] . b[k, n], all row-major. */
    public static void multiply(float[] a, float[] b, float[] c, int m, int n, int k) {
        int width = FS.length();
        int blocks = (n + width - 1) / width;
        if ((long) m * n * k < PARALLEL_MIN_WORK || blocks < 2) {
            for (int jb = 0; jb < blocks; jb++) floatColumnBlock(a, b, c, m, n, k, jb * width);
        } else {
            IntStream.range(0, blocks).parallel().forEach(jb -> floatColumnBlock(a, b, c, m, n, k, jb * width));
        }
    }

    /** c[m, n] += a[m, k] . b[k, n], all row-major. */
    public static void multiply(double[] a, double[] b, double[] c, int m, int n, int k) {
        int width = DS.length();
        int blocks = (n + width - 1) / width;
        if ((long) m * n * k < PARALLEL_MIN_WORK || blocks < 2) {
            for (int jb = 0; jb < blocks; jb++) doubleColumnBlock(a, b, c, m, n, k, jb * width);
        } else {
            IntStream.range(0, blocks).parallel().forEach(jb -> doubleColumnBlock(a, b, c, m, n, k, jb * width));
        }
    }

    private static void floatColumnBlock(float[] a, float[] b, float[] c, int m, int n, int k, int j) {
        if (j + FS.length() > n) { // ragged last block: scalar
            for (int i = 0; i < m; i++) {
                for (int jj = j; jj < n; jj++) {
                    float s = c[i * n + jj];
                    for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + jj];
                    c[i * n + jj] = s;
                }
            }
            return;
        }
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int r0 = i * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
            FloatVector c0 = FloatVector.fromArray(FS, c, i * n + j);
            FloatVector c1 = FloatVector.fromArray(FS, c, (i + 1) * n + j);
            FloatVector c2 = FloatVector.fromArray(FS, c, (i + 2) * n + j);
            FloatVector c3 = FloatVector.fromArray(FS, c, (i + 3) * n + j);
            for (int p = 0; p < k; p++) {
                FloatVector bv = FloatVector.fromArray(FS, b, p * n + j);
                c0 = bv.fma(FloatVector.broadcast(FS, a[r0 + p]), c0);
                c1 = bv.fma(FloatVector.broadcast(FS, a[r1 + p]), c1);
                c2 = bv.fma(FloatVector.broadcast(FS, a[r2 + p]), c2);
                c3 = bv.fma(FloatVector.broadcast(FS, a[r3 + p]), c3);
            }
            c0.intoArray(c, i * n + j);
            c1.intoArray(c, (i + 1) * n + j);
            c2.intoArray(c, (i + 2) * n + j);
            c3.intoArray(c, (i + 3) * n + j);
        }
        for (; i < m; i++) {
            FloatVector c0 = FloatVector.fromArray(FS, c, i * n + j);
            for (int p = 0; p < k; p++) {
                c0 = FloatVector.fromArray(FS, b, p * n + j).fma(FloatVector.broadcast(FS, a[i * k + p]), c0);
            }
            c0.intoArray(c, i * n + j);
        }
    }

    private static void doubleColumnBlock(double[] a, double[] b, double[] c, int m, int n, int k, int j) {
        if (j + DS.length() > n) {
            for (int i = 0; i < m; i++) {
                for (int jj = j; jj < n; jj++) {
                    double s = c[i * n + jj];
                    for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + jj];
                    c[i * n + jj] = s;
                }
            }
            return;
        }
        for (int i = 0; i < m; i++) {
            DoubleVector c0 = DoubleVector.fromArray(DS, c, i * n + j);
            for (int p = 0; p < k; p++) {
                c0 = DoubleVector.fromArray(DS, b, p * n + j).fma(DoubleVector.broadcast(DS, a[i * k + p]), c0);
            }
            c0.intoArray(c, i * n + j);
        }
    }

    /** The transpose of a row-major [rows, cols] matrix, as [cols, rows]. */
    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        }
        return t;
    }

    static double[] transpose(double[] x, int rows, int cols) {
        double[] t = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        }
        return t;
    }

    private static void require2d(String name, Tensor t) {
        if (t.shape().rank() != 2) {
            throw new IllegalArgumentException(name + ": expected a 2-D tensor, got shape " + t.shape());
        }
    }
}
