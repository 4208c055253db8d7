package dev.lstm4j.io;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The lstm4j checkpoint: one safetensors file holding the canonical parameters (DESIGN.md names) and, in its
 * {@code __metadata__}, {@code "format": "lstm4j"} and the full spec as JSON under {@link #SPEC_KEY}, so that the
 * file alone rebuilds the layer. Callers may add their own metadata entries and extra tensors (a training run's
 * optimizer state, the rest of a model) under names that do not collide with the parameters.
 */
public final class Checkpoint {
    public static final String FORMAT_KEY = "format";
    public static final String FORMAT_VALUE = "lstm4j";
    public static final String SPEC_KEY = "lstm4j.spec";

    private Checkpoint() {}

    /** The metadata entries that make a safetensors file an lstm4j checkpoint of {@code spec}. */
    public static Map<String, String> specMetadata(LstmSpec spec) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT_KEY, FORMAT_VALUE);
        m.put(SPEC_KEY, LstmSpecJson.toJson(spec));
        return m;
    }

    /** True when the metadata carries an lstm4j spec. */
    public static boolean isCheckpoint(Map<String, String> metadata) {
        return metadata.containsKey(SPEC_KEY);
    }

    public static void save(Path path, LstmParams params) throws IOException {
        save(path, params, Map.of(), Map.of());
    }

    /**
     * @param extraMetadata more {@code __metadata__} entries (may not replace {@link #FORMAT_KEY} or {@link #SPEC_KEY})
     * @param extraTensors  more tensors written after the parameters (may not reuse a parameter name)
     */
    public static void save(Path path, LstmParams params, Map<String, String> extraMetadata,
                            Map<String, Tensor> extraTensors) throws IOException {
        Map<String, String> metadata = specMetadata(params.spec());
        for (Map.Entry<String, String> e : extraMetadata.entrySet()) {
            if (metadata.containsKey(e.getKey())) {
                throw new IllegalArgumentException("metadata: '" + e.getKey() + "' is reserved for the checkpoint's spec");
            }
            metadata.put(e.getKey(), e.getValue());
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>(params.asMap());
        for (Map.Entry<String, Tensor> e : extraTensors.entrySet()) {
            if (tensors.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new IllegalArgumentException("extra tensor '" + e.getKey() + "': the name is a parameter's");
            }
        }
        SafeTensors.write(path, tensors, metadata);
    }

    /** The spec a checkpoint's metadata holds. */
    public static LstmSpec spec(Path path, Map<String, String> metadata) {
        String json = metadata.get(SPEC_KEY);
        if (json == null) {
            throw new MalformedFileException(path, "not an lstm4j checkpoint: its __metadata__ has no '" + SPEC_KEY + "'");
        }
        try {
            return LstmSpecJson.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(path, e.getMessage());
        }
    }

    /** Loads the parameters of a checkpoint in {@code dtype}; extra tensors in the file are ignored. */
    public static LstmParams load(Path path, DType dtype) throws IOException {
        try (SafeTensorsFile file = SafeTensors.read(path)) {
            return params(path, spec(path, file.metadata()), file.tensors(), dtype);
        }
    }

    /**
     * The parameters of {@code spec} taken from {@code tensors} by canonical name (converted to {@code dtype});
     * every parameter must be present with its exact shape.
     */
    public static LstmParams params(Path path, LstmSpec spec, Map<String, Tensor> tensors, DType dtype) {
        LstmParams p = LstmParams.zeros(spec, dtype);
        try {
            for (String name : spec.parameterNames()) {
                Tensor t = tensors.get(name);
                if (t == null) {
                    throw new MalformedFileException(path, "parameter '" + name + "' of " + spec + " is missing");
                }
                if (!t.shape().equals(spec.parameterShape(name))) {
                    throw new MalformedFileException(path, "parameter '" + name + "': expected shape "
                            + spec.parameterShape(name) + ", got " + t.shape());
                }
                p.get(name).copyFrom(t);
            }
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }
}
