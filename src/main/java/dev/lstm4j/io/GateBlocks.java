package dev.lstm4j.io;

/**
 * Row-major reshuffles between gate layouts. A gate matrix has 4 blocks of H rows (or H entries for a bias), one
 * per gate; {@code order[k]} names the canonical gate (0 = i, 1 = f, 2 = g, 3 = o) that a foreign layout keeps in
 * its block k.
 */
final class GateBlocks {
    static final int I = 0, F = 1, G = 2, O = 3;

    private GateBlocks() {}

    /** [rows, cols] -> [cols, rows]. */
    static double[] transpose(double[] m, int rows, int cols) {
        double[] out = new double[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = m[r * cols + c];
            }
        }
        return out;
    }

    /** Foreign block k (blockRows rows of cols each) goes to block order[k]. */
    static double[] toCanonical(double[] m, int blockRows, int cols, int[] order) {
        double[] out = new double[m.length];
        int block = blockRows * cols;
        for (int k = 0; k < order.length; k++) {
            System.arraycopy(m, k * block, out, order[k] * block, block);
        }
        return out;
    }

    /** The inverse of {@link #toCanonical}: block order[k] goes to foreign block k. */
    static double[] toForeign(double[] m, int blockRows, int cols, int[] order) {
        double[] out = new double[m.length];
        int block = blockRows * cols;
        for (int k = 0; k < order.length; k++) {
            System.arraycopy(m, order[k] * block, out, k * block, block);
        }
        return out;
    }

    static double[] slice(double[] m, int from, int length) {
        double[] out = new double[length];
        System.arraycopy(m, from, out, 0, length);
        return out;
    }

    static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) n += p.length;
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
