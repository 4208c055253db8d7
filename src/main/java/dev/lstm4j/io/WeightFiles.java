package dev.lstm4j.io;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads LSTM weights from a safetensors file in any {@link WeightFormat} into the canonical layout, and writes
 * canonical weights in any of them. Without a format the file's names decide: an lstm4j spec in the metadata means
 * a checkpoint, {@code weight_ih_l0} PyTorch, {@code kernel} Keras, {@code RW} DL4J, {@code W} with {@code R} ONNX.
 */
public final class WeightFiles {
    private WeightFiles() {}

    /** @param format null to detect it from the file */
    public static ImportedWeights read(Path path, WeightFormat format, VariantOptions options, DType dtype)
            throws IOException {
        try (SafeTensorsFile file = SafeTensors.read(path)) {
            return fromTensors(path, file.tensors(), file.metadata(), format, options, dtype);
        }
    }

    public static ImportedWeights fromTensors(Path source, Map<String, Tensor> tensors, Map<String, String> metadata,
                                              WeightFormat format, VariantOptions options, DType dtype) {
        WeightFormat f = format != null ? format : detect(source, tensors.keySet(), metadata);
        return switch (f) {
            case PYTORCH -> PyTorchFormat.read(source, tensors, options, dtype, WeightFormat.PYTORCH);
            case KERAS -> KerasFormat.read(source, tensors, options, dtype);
            case ONNX -> OnnxFormat.read(source, tensors, options, dtype);
            case DL4J -> Dl4jFormat.read(source, tensors, options, dtype);
            case LSTM4J -> Checkpoint.isCheckpoint(metadata)
                    ? checkpoint(source, tensors, metadata, options, dtype)
                    : PyTorchFormat.read(source, tensors, options, dtype, WeightFormat.LSTM4J);
        };
    }

    public static WeightFormat detect(Path source, Set<String> names, Map<String, String> metadata) {
        if (Checkpoint.isCheckpoint(metadata)) return WeightFormat.LSTM4J;
        boolean w = false, r = false;
        for (String n : names) {
            String base = n.endsWith(":0") ? n.substring(0, n.length() - 2) : n;
            if (base.endsWith("weight_ih_l0")) return WeightFormat.PYTORCH;
            if (base.endsWith("kernel")) return WeightFormat.KERAS;
            if (base.matches("(\\d+_)?[fb]?RW")) return WeightFormat.DL4J;
            if (base.matches("(\\d+_)?W")) w = true;
            if (base.matches("(\\d+_)?R")) r = true;
        }
        if (w && r) return WeightFormat.ONNX;
        throw new MalformedFileException(source, "cannot tell the weight format from the names " + names
                + "; give --format pytorch|keras|onnx|dl4j|lstm4j");
    }

    private static ImportedWeights checkpoint(Path source, Map<String, Tensor> tensors, Map<String, String> metadata,
                                              VariantOptions options, DType dtype) {
        LstmSpec saved = Checkpoint.spec(source, metadata);
        if (options.setsVariant()) {
            throw new IllegalArgumentException(source + " is an lstm4j checkpoint whose spec (" + saved
                    + ") fixes activations, clip and input-forget; leave those options out");
        }
        LstmSpec spec = saved.batchFirst() == options.batchFirst() ? saved
                : saved.toBuilder().batchFirst(options.batchFirst()).build();
        LstmParams params = Checkpoint.params(source, spec, tensors, dtype);
        List<String> fileNames = new ArrayList<>(spec.parameterNames());
        return new ImportedWeights(WeightFormat.LSTM4J, params, fileNames, (canonical, arena, gradient) -> {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : fileNames) {
                out.put(name, canonical.get(name).copy(arena));
            }
            return out;
        });
    }

    /** {@code params} under the names and layout of {@code format} (copies in {@code arena}). */
    public static Map<String, Tensor> toFormat(LstmParams params, WeightFormat format, Arena arena) {
        return switch (format) {
            case PYTORCH, LSTM4J -> PyTorchFormat.write(params, arena);
            case KERAS -> KerasFormat.write(params, arena);
            case ONNX -> OnnxFormat.write(params, arena);
            case DL4J -> Dl4jFormat.write(params, arena);
        };
    }

    /** Writes {@code params} as a safetensors file in {@code format}; for lstm4j, a checkpoint with the spec. */
    public static void write(Path path, LstmParams params, WeightFormat format) throws IOException {
        if (format == WeightFormat.LSTM4J) {
            Checkpoint.save(path, params);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.write(path, toFormat(params, format, arena), Map.of());
        }
    }
}
