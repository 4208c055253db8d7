package dev.lstm4j.io;

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

/**
 * PyTorch {@code nn.LSTM} state_dict: our canonical names and shapes already (gate order i, f, g, o, two biases,
 * {@code _reverse}, {@code weight_hr_l{k}} with proj_size), optionally under a module prefix such as {@code lstm.}.
 * Biases may be absent (bias=False): they read as zero. {@code weight_peep_l{k}} [3H], order i, f, o, turns
 * peepholes on (lstm4j's extension; PyTorch has none).
 */
final class PyTorchFormat {
    private static final String ANCHOR = "weight_ih_l0";

    private PyTorchFormat() {}

    static ImportedWeights read(Path source, Map<String, Tensor> tensors, VariantOptions options, DType dtype,
                                WeightFormat label) {
        ForeignTensors in = new ForeignTensors(source, tensors, label);
        String prefix = null;
        for (String name : tensors.keySet()) {
            if (name.endsWith(ANCHOR)) {
                prefix = name.substring(0, name.length() - ANCHOR.length());
                break;
            }
        }
        if (prefix == null) {
            throw in.error("no '" + ANCHOR + "' tensor, so this is not an nn.LSTM state_dict (names: " + tensors.keySet() + ")");
        }
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                throw in.error("tensor '" + e.getKey() + "' does not share the prefix '" + prefix + "' of '" + prefix + ANCHOR + "'");
            }
            byName.put(e.getKey().substring(prefix.length()), e.getValue());
        }
        ForeignTensors t = new ForeignTensors(source, byName, label);
        long[] wih = t.shape(ANCHOR, 2);
        int hidden = t.gateSize(ANCHOR, wih[0]);
        int layers = 0;
        while (t.has(LstmSpec.weightIh(layers, 0))) layers++;
        boolean bidi = t.has(LstmSpec.weightIh(0, 1));
        int proj = t.has(LstmSpec.weightHr(0, 0)) ? Math.toIntExact(t.shape(LstmSpec.weightHr(0, 0), 2)[0]) : 0;
        boolean peep = t.has(LstmSpec.weightPeep(0, 0));
        LstmSpec spec = options.applyTo(LstmSpec.builder(Math.toIntExact(wih[1]), hidden).numLayers(layers)
                .bidirectional(bidi).projSize(proj).peepholes(peep)).build();
        boolean biases = t.has(LstmSpec.biasIh(0, 0));
        List<String> expected = spec.parameterNames();
        for (String name : byName.keySet()) {
            if (!expected.contains(name)) {
                throw t.error("unexpected tensor '" + prefix + name + "' for the inferred " + spec
                        + " (expected " + expected + ")");
            }
        }
        List<String> fileNames = new ArrayList<>();
        LstmParams params = LstmParams.zeros(spec, dtype);
        try {
            for (String name : expected) {
                boolean isBias = name.startsWith("bias_");
                if (isBias && !biases) {
                    if (t.has(name)) {
                        throw t.error("tensor '" + prefix + name + "' is present but '" + prefix + LstmSpec.biasIh(0, 0)
                                + "' is not: expected every bias or none (bias=False)");
                    }
                    continue;
                }
                params.get(name).copyFrom(t.values(name, spec.parameterShape(name).dims()));
                fileNames.add(prefix + name);
            }
        } catch (RuntimeException e) {
            params.close();
            throw e;
        }
        String p = prefix;
        return new ImportedWeights(label, params, fileNames, (canonical, arena, gradient) -> {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : fileNames) {
                out.put(name, canonical.get(name.substring(p.length())).copy(arena));
            }
            return out;
        });
    }

    /** The parameters under PyTorch's names (copies in {@code arena}). */
    static Map<String, Tensor> write(LstmParams params, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : params.names()) {
            out.put(name, params.get(name).copy(arena));
        }
        return out;
    }
}
