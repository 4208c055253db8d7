package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.Tensor;

/**
 * The weights of one (layer, direction) as Java arrays, gate order i, f, g, o. Used both for the values and, with
 * the same shapes, for the accumulated gradients.
 */
final class CellWeights {
    final double[][] wIh;  // [4H][in]
    final double[][] wHh;  // [4H][P or H]
    final double[] bIh;    // [4H]
    final double[] bHh;    // [4H]
    final double[][] wHr;  // [P][H], null without projection
    final double[] peep;   // [3H] i, f, o; null without peepholes

    private CellWeights(double[][] wIh, double[][] wHh, double[] bIh, double[] bHh, double[][] wHr, double[] peep) {
        this.wIh = wIh;
        this.wHh = wHh;
        this.bIh = bIh;
        this.bHh = bHh;
        this.wHr = wHr;
        this.peep = peep;
    }

    static CellWeights read(LstmParams p, int layer, int dir) {
        LstmSpec s = p.spec();
        return new CellWeights(
                matrix(p.weightIh(layer, dir)), matrix(p.weightHh(layer, dir)),
                p.biasIh(layer, dir).toDoubleArray(), p.biasHh(layer, dir).toDoubleArray(),
                s.projSize() > 0 ? matrix(p.weightHr(layer, dir)) : null,
                s.peepholes() ? p.weightPeep(layer, dir).toDoubleArray() : null);
    }

    static CellWeights zerosLike(CellWeights w) {
        return new CellWeights(new double[w.wIh.length][w.wIh[0].length], new double[w.wHh.length][w.wHh[0].length],
                new double[w.bIh.length], new double[w.bHh.length],
                w.wHr == null ? null : new double[w.wHr.length][w.wHr[0].length],
                w.peep == null ? null : new double[w.peep.length]);
    }

    void writeTo(LstmParams p, int layer, int dir) {
        write(wIh, p.weightIh(layer, dir));
        write(wHh, p.weightHh(layer, dir));
        p.biasIh(layer, dir).copyFrom(bIh);
        p.biasHh(layer, dir).copyFrom(bHh);
        if (wHr != null) write(wHr, p.weightHr(layer, dir));
        if (peep != null) p.weightPeep(layer, dir).copyFrom(peep);
    }

    private static double[][] matrix(Tensor t) {
        int rows = t.shape().intDim(0);
        int cols = t.shape().intDim(1);
        double[] flat = t.toDoubleArray();
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(flat, r * cols, m[r], 0, cols);
        }
        return m;
    }

    private static void write(double[][] m, Tensor t) {
        int cols = m[0].length;
        double[] flat = new double[m.length * cols];
        for (int r = 0; r < m.length; r++) {
            System.arraycopy(m[r], 0, flat, r * cols, cols);
        }
        t.copyFrom(flat);
    }
}
