package dev.lstm4j.cpu;

import dev.lstm4j.tensor.Tensor;

/** Moves [T, B, X] (or batch-first [B, T, X]) and [N, B, X] tensors in and out of time-major Java arrays. */
final class SequenceArrays {
    private SequenceArrays() {}

    /** Returns [T][B][X]; a null tensor gives zeros. */
    static double[][][] read(Tensor t, boolean batchFirst, int seqLength, int batch, int width) {
        double[][][] a = new double[seqLength][batch][width];
        if (t == null) {
            return a;
        }
        double[] flat = t.toDoubleArray();
        for (int s = 0; s < seqLength; s++) {
            for (int b = 0; b < batch; b++) {
                int base = batchFirst ? (b * seqLength + s) * width : (s * batch + b) * width;
                System.arraycopy(flat, base, a[s][b], 0, width);
            }
        }
        return a;
    }

    static void write(double[][][] a, Tensor t, boolean batchFirst) {
        int seqLength = a.length;
        int batch = a[0].length;
        int width = a[0][0].length;
        double[] flat = new double[seqLength * batch * width];
        for (int s = 0; s < seqLength; s++) {
            for (int b = 0; b < batch; b++) {
                int base = batchFirst ? (b * seqLength + s) * width : (s * batch + b) * width;
                System.arraycopy(a[s][b], 0, flat, base, width);
            }
        }
        t.copyFrom(flat);
    }

    /** A state tensor [N, B, X] (null: zeros) as [N][B][X]. */
    static double[][][] readState(Tensor t, int n, int batch, int width) {
        return read(t, false, n, batch, width);
    }
}
