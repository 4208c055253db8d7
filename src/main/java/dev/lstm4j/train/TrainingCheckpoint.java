package dev.lstm4j.train;

import dev.lstm4j.io.Checkpoint;
import dev.lstm4j.io.MalformedFileException;
import dev.lstm4j.io.SafeTensors;
import dev.lstm4j.io.SafeTensorsFile;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.nn.Model;
import dev.lstm4j.nn.ModelConfig;
import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint: an lstm4j checkpoint (safetensors; the LSTM's canonical parameters and its spec as JSON,
 * see {@link Checkpoint}, so {@code Checkpoint.load} reads the LSTM alone from it) plus the rest of the model
 * ({@code embedding.weight}, {@code input.*}, {@code head.*}), the optimizer state under {@code optim.<param>.<buffer>},
 * and in the metadata the model's configuration, the optimizer and its step count, and whatever the caller adds
 * (the task, the data, the vocabulary).
 */
public final class TrainingCheckpoint {
    public static final String STEPS_KEY = "optim.steps";
    private static final String LSTM_PREFIX = "lstm.";

    private TrainingCheckpoint() {}

    public static void save(Path path, Model model, Optimizer optimizer, Map<String, String> extraMetadata)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(model.config().toMetadata());
        meta.putAll(optimizer.toMetadata());
        meta.put(STEPS_KEY, Long.toString(optimizer.steps()));
        meta.putAll(extraMetadata);
        Map<String, Tensor> extra = new LinkedHashMap<>();
        for (Param p : model.params()) {
            if (!p.name().startsWith(LSTM_PREFIX)) extra.put(p.name(), p.value());
        }
        for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) extra.put("optim." + e.getKey(), e.getValue());
        if (path.getParent() != null) Files.createDirectories(path.getParent());
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Checkpoint.save(tmp, model.lstm().params(), meta, extra);
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A loaded checkpoint: the model, its optimizer (state restored) and the file's metadata. Close it. */
    public record Loaded(Model model, Optimizer optimizer, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() {
            try {
                optimizer.close();
            } finally {
                model.close();
            }
        }
    }

    /** Rebuilds the model (LSTM on {@code backend}) and optimizer a checkpoint was saved from. */
    public static Loaded load(Path path, String backend) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("checkpoint " + path + ": no such file");
        }
        try (SafeTensorsFile file = SafeTensors.read(path)) {
            Map<String, String> meta = file.metadata();
            LstmSpec spec = Checkpoint.spec(path, meta);
            ModelConfig config;
            try {
                config = ModelConfig.fromMetadata(meta, spec);
            } catch (IllegalArgumentException e) {
                throw new MalformedFileException(path, "not an lstm4j training checkpoint: " + e.getMessage());
            }
            Model model = new Model(config, 0, backend);
            Optimizer optimizer = null;
            try {
                for (Param p : model.params()) {
                    String key = p.name().startsWith(LSTM_PREFIX) ? p.name().substring(LSTM_PREFIX.length()) : p.name();
                    Tensor t = file.tensors().get(key);
                    if (t == null) throw new MalformedFileException(path, "parameter '" + key + "' is missing");
                    if (!t.shape().equals(p.value().shape())) {
                        throw new MalformedFileException(path, "parameter '" + key + "': expected shape "
                                + p.value().shape() + ", got " + t.shape());
                    }
                    p.value().copyFrom(t);
                }
                optimizer = Optimizers.fromMetadata(meta);
                long steps = Long.parseLong(meta.getOrDefault(STEPS_KEY, "0"));
                Map<String, Tensor> state = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
                    if (e.getKey().startsWith("optim.")) state.put(e.getKey().substring(6), e.getValue());
                }
                optimizer.load(state, steps, model.params());
                return new Loaded(model, optimizer, Map.copyOf(meta));
            } catch (RuntimeException e) {
                if (optimizer != null) optimizer.close();
                model.close();
                throw e;
            }
        }
    }
}
