package dev.lstm4j.nn;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Elementwise helpers on host tensors, with one loop per dtype so the JIT sees plain indexed loads and stores. */
public final class Tensors {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private Tensors() {}

    public static void zero(Tensor t) {
        t.segment().fill((byte) 0);
    }

    /** dst += src (same shape and dtype). */
    public static void addInto(Tensor dst, Tensor src) {
        requireSame("src", dst, src);
        MemorySegment d = dst.segment();
        MemorySegment s = src.segment();
        long n = dst.elementCount();
        if (dst.dtype() == DType.FLOAT32) {
            for (long i = 0; i < n; i++) d.setAtIndex(F, i, d.getAtIndex(F, i) + s.getAtIndex(F, i));
        } else {
            for (long i = 0; i < n; i++) d.setAtIndex(D, i, d.getAtIndex(D, i) + s.getAtIndex(D, i));
        }
    }

    /** t *= factor. */
    public static void scale(Tensor t, double factor) {
        MemorySegment s = t.segment();
        long n = t.elementCount();
        if (t.dtype() == DType.FLOAT32) {
            float f = (float) factor;
            long i = 0;
            for (long bound = n - n % FS.length(); i < bound; i += FS.length()) {
                FloatVector.fromMemorySegment(FS, s, i * 4, ORDER).mul(f).intoMemorySegment(s, i * 4, ORDER);
            }
            for (; i < n; i++) s.setAtIndex(F, i, s.getAtIndex(F, i) * f);
        } else {
            for (long i = 0; i < n; i++) s.setAtIndex(D, i, s.getAtIndex(D, i) * factor);
        }
    }

    /** Sum of squares, accumulated in double. */
    public static double sumOfSquares(Tensor t) {
        MemorySegment s = t.segment();
        long n = t.elementCount();
        double sum = 0;
        if (t.dtype() == DType.FLOAT32) {
            // float lanes over blocks of 1024 elements, each block's total added in double
            int width = FS.length();
            long i = 0;
            while (i + width <= n) {
                long end = Math.min(n - n % width, i + 1024);
                FloatVector acc = FloatVector.zero(FS);
                for (; i < end; i += width) {
                    FloatVector v = FloatVector.fromMemorySegment(FS, s, i * 4, ORDER);
                    acc = v.fma(v, acc);
                }
                sum += acc.reduceLanes(VectorOperators.ADD);
            }
            for (; i < n; i++) {
                double v = s.getAtIndex(F, i);
                sum += v * v;
            }
        } else {
            for (long i = 0; i < n; i++) {
                double v = s.getAtIndex(D, i);
                sum += v * v;
            }
        }
        return sum;
    }

    /** acc[c] += sum over rows of x[r, c]; x: [N, C], acc: [C]. */
    public static void addColumnSums(Tensor x, Tensor acc) {
        int cols = acc.shape().intDim(0);
        if (x.shape().rank() != 2 || x.shape().dim(1) != cols || x.dtype() != acc.dtype()) {
            throw new IllegalArgumentException("x: expected [N, " + cols + "] " + acc.dtype() + ", got " + x.shape()
                    + " " + x.dtype());
        }
        int rows = x.shape().intDim(0);
        double[] sums = new double[cols];
        MemorySegment s = x.segment();
        for (int r = 0; r < rows; r++) {
            long base = (long) r * cols;
            if (x.dtype() == DType.FLOAT32) {
                for (int c = 0; c < cols; c++) sums[c] += s.getAtIndex(F, base + c);
            } else {
                for (int c = 0; c < cols; c++) sums[c] += s.getAtIndex(D, base + c);
            }
        }
        for (int c = 0; c < cols; c++) acc.setFlat(c, acc.getFlat(c) + sums[c]);
    }

    /** Copies row {@code srcRow} of a [R, C] tensor to row {@code dstRow} of another [R', C] tensor of one dtype. */
    public static void copyRow(Tensor src, long srcRow, Tensor dst, long dstRow, int cols) {
        long bytes = (long) cols * src.dtype().byteSize();
        MemorySegment.copy(src.segment(), srcRow * bytes, dst.segment(), dstRow * bytes, bytes);
    }

    /** dst[dstRow, :] += src[srcRow, :] for [R, C] tensors of one dtype. */
    public static void addRow(Tensor src, long srcRow, Tensor dst, long dstRow, int cols) {
        MemorySegment s = src.segment();
        MemorySegment d = dst.segment();
        long so = srcRow * cols;
        long dof = dstRow * cols;
        if (src.dtype() == DType.FLOAT32) {
            for (int c = 0; c < cols; c++) d.setAtIndex(F, dof + c, d.getAtIndex(F, dof + c) + s.getAtIndex(F, so + c));
        } else {
            for (int c = 0; c < cols; c++) d.setAtIndex(D, dof + c, d.getAtIndex(D, dof + c) + s.getAtIndex(D, so + c));
        }
    }

    private static void requireSame(String name, Tensor expected, Tensor got) {
        if (!expected.shape().equals(got.shape()) || expected.dtype() != got.dtype()) {
            throw new IllegalArgumentException(name + ": expected " + expected.shape() + " " + expected.dtype()
                    + ", got " + got.shape() + " " + got.dtype());
        }
    }
}
