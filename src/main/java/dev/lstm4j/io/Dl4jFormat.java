package dev.lstm4j.io;

import static dev.lstm4j.io.GateBlocks.F;
import static dev.lstm4j.io.GateBlocks.G;
import static dev.lstm4j.io.GateBlocks.I;
import static dev.lstm4j.io.GateBlocks.O;
import static dev.lstm4j.io.GateBlocks.transpose;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deeplearning4j {@code LSTM} and {@code GravesLSTM} parameters: {@code W} [nIn, 4H], {@code RW} [H, 4H] (LSTM) or
 * [H, 4H + 3] (GravesLSTM, whose last three columns are the peepholes), {@code b} [1, 4H].
 *
 * <p>The layout is the one DL4J's {@code LSTMHelpers.activateHelper} documents and computes
 * (deeplearning4j-nn, org/deeplearning4j/nn/layers/recurrent/LSTMHelpers.java): input weights "order: [wi,wf,wo,wg]",
 * recurrent weights "order: [wI,wF,wO,wG,wFF,wOO,wGG]", biases "order: [bi,bf,bo,bg]". DL4J's own names do not mean
 * ours: its first block ("i", the network input) goes through the layer activation and is our cell candidate g;
 * its last block ("g", the input modulation gate) goes through the gate activation and multiplies that candidate,
 * so it is our input gate i. In our names the blocks are g, f, o, i. The peephole columns are wFF (forget gate,
 * reads c(t-1)), wOO (output gate, reads c(t)) and wGG (input modulation gate = our i, reads c(t-1)): the same
 * semantics as ours and ONNX's. DL4J uses its layer activation for both g and h, so give the same activation for
 * both when it is not tanh.
 *
 * <p>Names: {@code W, RW, b} for one layer, with DL4J's {@code MultiLayerNetwork} layer prefix ({@code 0_W},
 * {@code 1_RW}) for a stack, and its {@code Bidirectional} wrapper's {@code f}/{@code b} direction prefix
 * ({@code fW}, {@code bRW}, {@code 1_fb}). DL4J has one bias: it becomes bias_ih with bias_hh zero; exporting writes
 * bias_ih + bias_hh, and a bias gradient is the gradient of bias_ih.
 */
final class Dl4jFormat {
    /** DL4J block k holds our gate ORDER[k]: g, f, o, i. */
    private static final int[] ORDER = {G, F, O, I};
    private static final Pattern NAME = Pattern.compile("(?:(\\d+)_)?([fb]?)(W|RW|b)");

    private Dl4jFormat() {}

    private record Names(String w, String rw, String b) {}

    static ImportedWeights read(Path source, Map<String, Tensor> tensors, VariantOptions options, DType dtype) {
        ForeignTensors in = new ForeignTensors(source, tensors, WeightFormat.DL4J);
        Map<Integer, Map<String, Map<String, String>>> found = new TreeMap<>(); // layer -> direction prefix -> key -> name
        for (String name : tensors.keySet()) {
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw in.error("tensor '" + name + "': expected W, RW or b, optionally with a layer prefix (1_W) and a "
                        + "direction prefix (fW, bW)");
            }
            int layer = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
            if (found.computeIfAbsent(layer, k -> new TreeMap<>()).computeIfAbsent(m.group(2), k -> new LinkedHashMap<>())
                    .put(m.group(3), name) != null) {
                throw in.error("two tensors for " + m.group(2) + m.group(3) + " of layer " + layer);
            }
        }
        int numLayers = found.size();
        boolean bidi = found.containsKey(0) && found.get(0).containsKey("f");
        List<Names[]> layers = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            Map<String, Map<String, String>> dirs = found.get(l);
            List<String> expected = bidi ? List.of("b", "f") : List.of("");
            if (dirs == null || !List.copyOf(dirs.keySet()).equals(expected)) {
                throw in.error("layer " + l + ": expected " + (bidi ? "forward (f) and backward (b) parameters" : "W, RW, b")
                        + " like layer 0, got " + (dirs == null ? "nothing" : dirs));
            }
            Names[] n = new Names[bidi ? 2 : 1];
            for (int d = 0; d < n.length; d++) {
                Map<String, String> keys = dirs.get(bidi ? (d == 0 ? "f" : "b") : "");
                if (!keys.containsKey("W") || !keys.containsKey("RW")) {
                    throw in.error("layer " + l + ": expected W and RW, got " + keys.values());
                }
                n[d] = new Names(keys.get("W"), keys.get("RW"), keys.get("b"));
            }
            layers.add(n);
        }
        Names first = layers.getFirst()[0];
        long[] w0 = in.shape(first.w, 2);
        int h = in.gateSize(first.w, w0[1]);
        long[] rw0 = in.shape(first.rw, 2);
        if (rw0[1] != 4L * h && rw0[1] != 4L * h + 3) {
            throw in.error("tensor '" + first.rw + "': expected [" + h + ", " + 4 * h + "] (LSTM) or [" + h + ", "
                    + (4 * h + 3) + "] (GravesLSTM), got " + java.util.Arrays.toString(rw0));
        }
        boolean peep = rw0[1] == 4L * h + 3;
        boolean bias = first.b != null;
        int biasRank = bias ? in.get(first.b).shape().rank() : 2;
        LstmSpec spec = options.applyTo(LstmSpec.builder(Math.toIntExact(w0[0]), h).numLayers(numLayers)
                .bidirectional(bidi).peepholes(peep)).build();
        int rwCols = peep ? 4 * h + 3 : 4 * h;
        List<String> fileNames = new ArrayList<>();
        LstmParams params = LstmParams.zeros(spec, dtype);
        try {
            for (int l = 0; l < numLayers; l++) {
                int inSize = spec.layerInputSize(l);
                for (int d = 0; d < spec.numDirections(); d++) {
                    Names n = layers.get(l)[d];
                    params.weightIh(l, d).copyFrom(GateBlocks.toCanonical(
                            transpose(in.values(n.w, inSize, 4L * h), inSize, 4 * h), h, inSize, ORDER));
                    double[] rw = in.values(n.rw, h, rwCols);
                    double[] r = new double[h * 4 * h];
                    double[] p = new double[3 * h];
                    for (int row = 0; row < h; row++) {
                        System.arraycopy(rw, row * rwCols, r, row * 4 * h, 4 * h);
                        if (peep) {
                            p[row] = rw[row * rwCols + 4 * h + 2];         // wGG: our i
                            p[h + row] = rw[row * rwCols + 4 * h];         // wFF: our f
                            p[2 * h + row] = rw[row * rwCols + 4 * h + 1]; // wOO: our o
                        }
                    }
                    params.weightHh(l, d).copyFrom(GateBlocks.toCanonical(transpose(r, h, 4 * h), h, h, ORDER));
                    if (peep) {
                        params.weightPeep(l, d).copyFrom(p);
                    }
                    fileNames.add(n.w);
                    fileNames.add(n.rw);
                    if ((n.b != null) != bias) {
                        throw in.error("expected every layer to have a bias or none, got '" + n.w + "' "
                                + (bias ? "without" : "with") + " one");
                    }
                    if (bias) {
                        double[] b = biasRank == 1 ? in.values(n.b, 4L * h) : in.values(n.b, 1, 4L * h);
                        params.biasIh(l, d).copyFrom(GateBlocks.toCanonical(b, h, 1, ORDER));
                        fileNames.add(n.b);
                    }
                }
            }
        } catch (RuntimeException e) {
            params.close();
            throw e;
        }
        return new ImportedWeights(WeightFormat.DL4J, params, fileNames,
                (canonical, arena, gradient) -> export(canonical, arena, gradient, layers, bias, biasRank));
    }

    private static Map<String, Tensor> export(LstmParams p, Arena arena, boolean gradient, List<Names[]> layers,
                                              boolean bias, int biasRank) {
        LstmSpec spec = p.spec();
        int h = spec.hiddenSize();
        int rwCols = spec.peepholes() ? 4 * h + 3 : 4 * h;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            int inSize = spec.layerInputSize(l);
            for (int d = 0; d < spec.numDirections(); d++) {
                Names n = layers.get(l)[d];
                out.put(n.w, ForeignTensors.tensor(arena, p.dtype(), transpose(
                        GateBlocks.toForeign(p.weightIh(l, d).toDoubleArray(), h, inSize, ORDER), 4 * h, inSize),
                        inSize, 4L * h));
                double[] r = transpose(GateBlocks.toForeign(p.weightHh(l, d).toDoubleArray(), h, h, ORDER), 4 * h, h);
                double[] peep = spec.peepholes() ? p.weightPeep(l, d).toDoubleArray() : null;
                double[] rw = new double[h * rwCols];
                for (int row = 0; row < h; row++) {
                    System.arraycopy(r, row * 4 * h, rw, row * rwCols, 4 * h);
                    if (peep != null) {
                        rw[row * rwCols + 4 * h] = peep[h + row];
                        rw[row * rwCols + 4 * h + 1] = peep[2 * h + row];
                        rw[row * rwCols + 4 * h + 2] = peep[row];
                    }
                }
                out.put(n.rw, ForeignTensors.tensor(arena, p.dtype(), rw, h, rwCols));
                if (bias) {
                    double[] b = p.biasIh(l, d).toDoubleArray();
                    if (!gradient) {
                        double[] hh = p.biasHh(l, d).toDoubleArray();
                        for (int k = 0; k < b.length; k++) b[k] += hh[k];
                    }
                    b = GateBlocks.toForeign(b, h, 1, ORDER);
                    out.put(n.b, biasRank == 1 ? ForeignTensors.tensor(arena, p.dtype(), b, 4L * h)
                            : ForeignTensors.tensor(arena, p.dtype(), b, 1, 4L * h));
                }
            }
        }
        return out;
    }

    /** DL4J names for {@code params}: W, RW, b (with k_ and f/b prefixes for stacks and two directions). */
    static Map<String, Tensor> write(LstmParams params, Arena arena) {
        LstmSpec spec = params.spec();
        if (spec.projSize() > 0) {
            throw new IllegalArgumentException("dl4j: DL4J's LSTM layout has no projection, got " + spec);
        }
        List<Names[]> layers = new ArrayList<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            Names[] n = new Names[spec.numDirections()];
            for (int d = 0; d < n.length; d++) {
                String prefix = (spec.numLayers() == 1 ? "" : l + "_") + (spec.bidirectional() ? (d == 0 ? "f" : "b") : "");
                n[d] = new Names(prefix + "W", prefix + "RW", prefix + "b");
            }
            layers.add(n);
        }
        return export(params, arena, false, layers, true, 2);
    }
}
