package dev.lstm4j.io;

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

/**
 * Keras/TensorFlow {@code LSTM}: per layer {@code kernel} [I, 4H], {@code recurrent_kernel} [H, 4H] and an
 * optional single {@code bias} [4H], gate order i, f, c, o (the same order as ours; only the matrices are
 * transposed). Names may carry a layer prefix ({@code lstm/kernel}, {@code lstm_1/kernel}, TensorFlow's
 * {@code :0} suffix is ignored); layers are taken in the natural order of their prefixes, and a prefix with a
 * {@code forward}/{@code backward} segment (Keras' {@code Bidirectional} wrapper) is that layer's direction.
 *
 * <p>Keras has one bias, so it becomes bias_ih with bias_hh zero; exporting writes bias_ih + bias_hh, and a bias
 * gradient is the gradient of bias_ih.
 */
final class KerasFormat {
    private static final String KERNEL = "kernel";
    private static final String RECURRENT = "recurrent_kernel";
    private static final String BIAS = "bias";

    private KerasFormat() {}

    /** The tensor names of one layer-direction. */
    private record Group(String kernel, String recurrent, String bias) {}

    static ImportedWeights read(Path source, Map<String, Tensor> tensors, VariantOptions options, DType dtype) {
        ForeignTensors in = new ForeignTensors(source, tensors, WeightFormat.KERAS);
        // layer key -> direction -> role -> file name
        TreeMap<String, Map<Integer, Map<String, String>>> layers = new TreeMap<>(ForeignTensors::naturalCompare);
        for (String name : tensors.keySet()) {
            String n = name.endsWith(":0") ? name.substring(0, name.length() - 2) : name;
            String role = n.endsWith(RECURRENT) ? RECURRENT : n.endsWith(KERNEL) ? KERNEL : n.endsWith(BIAS) ? BIAS : null;
            String prefix = role == null ? null : n.substring(0, n.length() - role.length());
            if (prefix == null || !(prefix.isEmpty() || prefix.endsWith("/") || prefix.endsWith("."))) {
                throw in.error("tensor '" + name + "': expected a name ending in kernel, recurrent_kernel or bias");
            }
            int direction = 0;
            String layerKey = prefix;
            if (prefix.contains("backward")) {
                direction = 1;
                layerKey = prefix.replaceFirst("backward[^/.]*[/.]?", "");
            } else if (prefix.contains("forward")) {
                layerKey = prefix.replaceFirst("forward[^/.]*[/.]?", "");
            }
            Map<String, String> roles = layers.computeIfAbsent(layerKey, k -> new TreeMap<>())
                    .computeIfAbsent(direction, k -> new LinkedHashMap<>());
            if (roles.put(role, name) != null) {
                throw in.error("two tensors for the " + role + " of layer '" + layerKey + "'");
            }
        }
        if (layers.isEmpty()) {
            throw in.error("no tensors");
        }
        boolean bidi = layers.firstEntry().getValue().containsKey(1);
        List<Group[]> groups = new ArrayList<>();
        for (Map.Entry<String, Map<Integer, Map<String, String>>> layer : layers.entrySet()) {
            Map<Integer, Map<String, String>> dirs = layer.getValue();
            if (dirs.containsKey(1) != bidi || !dirs.containsKey(0)) {
                throw in.error("layer '" + layer.getKey() + "': expected " + (bidi ? "a forward and a backward" : "one")
                        + " direction like the first layer, got " + dirs.keySet().size());
            }
            Group[] g = new Group[bidi ? 2 : 1];
            for (int d = 0; d < g.length; d++) {
                Map<String, String> r = dirs.get(d);
                if (!r.containsKey(KERNEL) || !r.containsKey(RECURRENT)) {
                    throw in.error("layer '" + layer.getKey() + "': expected kernel and recurrent_kernel, got " + r.values());
                }
                g[d] = new Group(r.get(KERNEL), r.get(RECURRENT), r.get(BIAS));
            }
            groups.add(g);
        }
        boolean bias = groups.getFirst()[0].bias != null;
        long[] k0 = in.shape(groups.getFirst()[0].kernel, 2);
        int hidden = in.gateSize(groups.getFirst()[0].kernel, k0[1]);
        LstmSpec spec = options.applyTo(LstmSpec.builder(Math.toIntExact(k0[0]), hidden).numLayers(groups.size())
                .bidirectional(bidi)).build();
        List<String> fileNames = new ArrayList<>();
        LstmParams params = LstmParams.zeros(spec, dtype);
        try {
            for (int l = 0; l < groups.size(); l++) {
                int inSize = spec.layerInputSize(l);
                for (int d = 0; d < spec.numDirections(); d++) {
                    Group g = groups.get(l)[d];
                    params.weightIh(l, d).copyFrom(transpose(in.values(g.kernel, inSize, 4L * hidden), inSize, 4 * hidden));
                    params.weightHh(l, d).copyFrom(transpose(in.values(g.recurrent, hidden, 4L * hidden), hidden, 4 * hidden));
                    fileNames.add(g.kernel);
                    fileNames.add(g.recurrent);
                    if ((g.bias != null) != bias) {
                        throw in.error("expected every layer to have a bias or none, got '" + g.kernel + "' "
                                + (bias ? "without" : "with") + " one");
                    }
                    if (bias) {
                        params.biasIh(l, d).copyFrom(in.values(g.bias, 4L * hidden));
                        fileNames.add(g.bias);
                    }
                }
            }
        } catch (RuntimeException e) {
            params.close();
            throw e;
        }
        return new ImportedWeights(WeightFormat.KERAS, params, fileNames,
                (canonical, arena, gradient) -> export(canonical, arena, gradient, groups, bias));
    }

    private static Map<String, Tensor> export(LstmParams p, Arena arena, boolean gradient, List<Group[]> groups,
                                              boolean bias) {
        LstmSpec spec = p.spec();
        int h = spec.hiddenSize();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            int inSize = spec.layerInputSize(l);
            for (int d = 0; d < spec.numDirections(); d++) {
                Group g = groups.get(l)[d];
                out.put(g.kernel, ForeignTensors.tensor(arena, p.dtype(),
                        transpose(p.weightIh(l, d).toDoubleArray(), 4 * h, inSize), inSize, 4L * h));
                out.put(g.recurrent, ForeignTensors.tensor(arena, p.dtype(),
                        transpose(p.weightHh(l, d).toDoubleArray(), 4 * h, h), h, 4L * h));
                if (bias) {
                    double[] b = p.biasIh(l, d).toDoubleArray();
                    if (!gradient) {
                        double[] hh = p.biasHh(l, d).toDoubleArray();
                        for (int k = 0; k < b.length; k++) b[k] += hh[k];
                    }
                    out.put(g.bias, ForeignTensors.tensor(arena, p.dtype(), b, 4L * h));
                }
            }
        }
        return out;
    }

    /** Keras names for {@code params}: kernel/recurrent_kernel/bias for one layer, lstm_{k}[/forward|/backward]/... else. */
    static Map<String, Tensor> write(LstmParams params, Arena arena) {
        LstmSpec spec = params.spec();
        if (spec.projSize() > 0 || spec.peepholes()) {
            throw new IllegalArgumentException("keras: the Keras LSTM layout has no projection and no peepholes, got " + spec);
        }
        List<Group[]> groups = new ArrayList<>();
        for (int l = 0; l < spec.numLayers(); l++) {
            Group[] g = new Group[spec.numDirections()];
            for (int d = 0; d < g.length; d++) {
                String prefix = spec.numLayers() == 1 && !spec.bidirectional() ? ""
                        : "lstm_" + l + "/" + (spec.bidirectional() ? (d == 0 ? "forward/" : "backward/") : "");
                g[d] = new Group(prefix + KERNEL, prefix + RECURRENT, prefix + BIAS);
            }
            groups.add(g);
        }
        return export(params, arena, false, groups, true);
    }
}
