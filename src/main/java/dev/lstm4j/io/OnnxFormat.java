package dev.lstm4j.io;

import static dev.lstm4j.io.GateBlocks.F;
import static dev.lstm4j.io.GateBlocks.G;
import static dev.lstm4j.io.GateBlocks.I;
import static dev.lstm4j.io.GateBlocks.O;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The inputs of the ONNX {@code LSTM} operator: W [D, 4H, I], R [D, 4H, H], optional B [D, 8H] (Wb then Rb) and
 * optional P [D, 3H], gates in order i, o, f, c and peepholes in order i, o, f; D = 2 is bidirectional (forward
 * first). An ONNX node is one layer; a stack of L nodes is stored as {@code W, R, B, P} for layer 0 (or
 * {@code 0_W}...) and {@code k_W, k_R, k_B, k_P} for layer k. ONNX has no projection.
 */
final class OnnxFormat {
    /** Foreign block k holds our gate ORDER[k]: ONNX's i, o, f, c. */
    private static final int[] ORDER = {I, O, F, G};
    /** Peepholes: ONNX i, o, f; ours i, f, o (blocks 0, 1, 2). */
    private static final int[] PEEP_ORDER = {0, 2, 1};
    private static final Pattern NAME = Pattern.compile("(?:(\\d+)_)?(W|R|B|P)");

    private OnnxFormat() {}

    static ImportedWeights read(Path source, Map<String, Tensor> tensors, VariantOptions options, DType dtype) {
        ForeignTensors in = new ForeignTensors(source, tensors, WeightFormat.ONNX);
        Map<Integer, Map<String, String>> layers = new java.util.TreeMap<>();
        for (String name : tensors.keySet()) {
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw in.error("tensor '" + name + "': expected W, R, B or P, optionally prefixed by a layer index (1_W)");
            }
            int layer = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
            if (layers.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(m.group(2), name) != null) {
                throw in.error("two tensors for " + m.group(2) + " of layer " + layer);
            }
        }
        int numLayers = layers.size();
        for (int l = 0; l < numLayers; l++) {
            if (!layers.containsKey(l) || !layers.get(l).containsKey("W") || !layers.get(l).containsKey("R")) {
                throw in.error("layer " + l + ": expected W and R (layers found: " + layers.keySet() + ")");
            }
        }
        long[] w0 = in.shape(layers.get(0).get("W"), 3);
        if (w0[0] != 1 && w0[0] != 2) {
            throw in.error("tensor '" + layers.get(0).get("W") + "': expected num_directions 1 or 2, got " + w0[0]);
        }
        int dirs = (int) w0[0];
        int h = in.gateSize(layers.get(0).get("W"), w0[1]);
        boolean peep = layers.get(0).containsKey("P");
        boolean bias = layers.get(0).containsKey("B");
        LstmSpec spec = options.applyTo(LstmSpec.builder(Math.toIntExact(w0[2]), h).numLayers(numLayers)
                .bidirectional(dirs == 2).peepholes(peep)).build();
        List<String> fileNames = new ArrayList<>();
        LstmParams params = LstmParams.zeros(spec, dtype);
        try {
            for (int l = 0; l < numLayers; l++) {
                Map<String, String> names = layers.get(l);
                if (names.containsKey("P") != peep || names.containsKey("B") != bias) {
                    throw in.error("layer " + l + ": expected the same optional inputs (B, P) as layer 0, got " + names.keySet());
                }
                int inSize = spec.layerInputSize(l);
                double[] w = in.values(names.get("W"), dirs, 4L * h, inSize);
                double[] r = in.values(names.get("R"), dirs, 4L * h, h);
                double[] b = bias ? in.values(names.get("B"), dirs, 8L * h) : null;
                double[] p = peep ? in.values(names.get("P"), dirs, 3L * h) : null;
                for (int d = 0; d < dirs; d++) {
                    params.weightIh(l, d).copyFrom(GateBlocks.toCanonical(
                            GateBlocks.slice(w, d * 4 * h * inSize, 4 * h * inSize), h, inSize, ORDER));
                    params.weightHh(l, d).copyFrom(GateBlocks.toCanonical(
                            GateBlocks.slice(r, d * 4 * h * h, 4 * h * h), h, h, ORDER));
                    if (bias) {
                        params.biasIh(l, d).copyFrom(GateBlocks.toCanonical(GateBlocks.slice(b, d * 8 * h, 4 * h), h, 1, ORDER));
                        params.biasHh(l, d).copyFrom(GateBlocks.toCanonical(
                                GateBlocks.slice(b, d * 8 * h + 4 * h, 4 * h), h, 1, ORDER));
                    }
                    if (peep) {
                        params.weightPeep(l, d).copyFrom(GateBlocks.toCanonical(
                                GateBlocks.slice(p, d * 3 * h, 3 * h), h, 1, PEEP_ORDER));
                    }
                }
                for (String role : new String[] {"W", "R", "B", "P"}) {
                    if (names.containsKey(role)) fileNames.add(names.get(role));
                }
            }
        } catch (RuntimeException e) {
            params.close();
            throw e;
        }
        return new ImportedWeights(WeightFormat.ONNX, params, fileNames,
                (canonical, arena, gradient) -> export(canonical, arena, layers, bias));
    }

    /** Permutations and concatenations only, so the gradient export is the same map as the parameter export. */
    private static Map<String, Tensor> export(LstmParams p, Arena arena, Map<Integer, Map<String, String>> names,
                                              boolean bias) {
        LstmSpec spec = p.spec();
        int h = spec.hiddenSize();
        int dirs = spec.numDirections();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            int inSize = spec.layerInputSize(l);
            double[][] w = new double[dirs][], r = new double[dirs][], b = new double[dirs][], pe = new double[dirs][];
            for (int d = 0; d < dirs; d++) {
                w[d] = GateBlocks.toForeign(p.weightIh(l, d).toDoubleArray(), h, inSize, ORDER);
                r[d] = GateBlocks.toForeign(p.weightHh(l, d).toDoubleArray(), h, h, ORDER);
                b[d] = GateBlocks.concat(GateBlocks.toForeign(p.biasIh(l, d).toDoubleArray(), h, 1, ORDER),
                        GateBlocks.toForeign(p.biasHh(l, d).toDoubleArray(), h, 1, ORDER));
                pe[d] = spec.peepholes() ? GateBlocks.toForeign(p.weightPeep(l, d).toDoubleArray(), h, 1, PEEP_ORDER) : null;
            }
            Map<String, String> n = names.get(l);
            out.put(n.get("W"), ForeignTensors.tensor(arena, p.dtype(), GateBlocks.concat(w), dirs, 4L * h, inSize));
            out.put(n.get("R"), ForeignTensors.tensor(arena, p.dtype(), GateBlocks.concat(r), dirs, 4L * h, h));
            if (bias) {
                out.put(n.get("B"), ForeignTensors.tensor(arena, p.dtype(), GateBlocks.concat(b), dirs, 8L * h));
            }
            if (spec.peepholes()) {
                out.put(n.get("P"), ForeignTensors.tensor(arena, p.dtype(), GateBlocks.concat(pe), dirs, 3L * h));
            }
        }
        return out;
    }

    /** ONNX names for {@code params}: W, R, B, P for layer 0 and k_W, ... for layer k. */
    static Map<String, Tensor> write(LstmParams params, Arena arena) {
        LstmSpec spec = params.spec();
        if (spec.projSize() > 0) {
            throw new IllegalArgumentException("onnx: the ONNX LSTM operator has no projection, got " + spec);
        }
        Map<Integer, Map<String, String>> names = new java.util.TreeMap<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            Map<String, String> n = new LinkedHashMap<>();
            for (String role : new String[] {"W", "R", "B", "P"}) {
                n.put(role, (l == 0 ? "" : l + "_") + role);
            }
            names.put(l, n);
        }
        return export(params, arena, names, true);
    }
}
