package dev.lstm4j.data;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Labelled grey-scale images, pixels scaled to [0, 1]: image i occupies {@code pixels[i*rows*cols ...]} row by row.
 * For the row-by-row classifier an image is a sequence of {@code rows} steps of {@code cols} features.
 */
public record ImageDataset(String name, int rows, int cols, float[] pixels, int[] labels, int classes) {
    public ImageDataset {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        if ((long) labels.length * rows * cols != pixels.length) {
            throw new IllegalArgumentException("pixels: expected " + labels.length + " x " + rows + " x " + cols
                    + " values, got " + pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("labels[" + i + "]: expected 0.." + (classes - 1) + ", got " + labels[i]);
            }
        }
    }

    public int size() {
        return labels.length;
    }

    /** The images at {@code indices}, in that order. */
    public ImageDataset subset(String subsetName, int[] indices) {
        int px = rows * cols;
        float[] p = new float[indices.length * px];
        int[] l = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(pixels, indices[k] * px, p, k * px, px);
            l[k] = labels[indices[k]];
        }
        return new ImageDataset(subsetName, rows, cols, p, l, classes);
    }

    /** The first {@code n} images (all when n >= size). */
    public ImageDataset head(int n) {
        if (n >= size()) return this;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return subset(name, idx);
    }

    /** Images {@code order[from..to)} as a time-major batch [rows, B, cols]: step t is image row t. */
    public Tensor batch(int[] order, int from, int to, DType dtype, Arena arena) {
        int b = to - from;
        int px = rows * cols;
        float[] x = new float[rows * b * cols];
        for (int k = 0; k < b; k++) {
            int base = order[from + k] * px;
            for (int t = 0; t < rows; t++) System.arraycopy(pixels, base + t * cols, x, (t * b + k) * cols, cols);
        }
        Tensor out = Tensor.zeros(arena, dtype, rows, b, cols);
        out.copyFrom(x);
        return out;
    }

    public int[] labels(int[] order, int from, int to) {
        int[] l = new int[to - from];
        for (int k = 0; k < l.length; k++) l[k] = labels[order[from + k]];
        return l;
    }

    /** 0..n-1 shuffled by Fisher-Yates with a generator seeded by {@code seed}. */
    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    public static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }
}
