package dev.lstm4j.nn;

import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Model} is: its input (token ids through an embedding, or dense features with an optional Linear in
 * front), the LSTM stack, dropout around it, and the head (which steps it reads, how many classes).
 *
 * @param input         how inputs arrive
 * @param inputFeatures vocabulary size for TOKENS, feature count for DENSE
 * @param inputLinear   DENSE only: a Linear inputFeatures -> lstm.inputSize() in front of the LSTM
 * @param lstm          the LSTM; its inputSize is the embedding size (TOKENS), the Linear's output or inputFeatures
 * @param dropout       dropout on the LSTM's input and on its output (training only); 0 for none
 * @param classes       size of the head's output
 * @param readout       which LSTM outputs the head reads
 * @param initRange     > 0: every parameter uniform in +-initRange (the PTB recipe); 0: each layer's default
 * @param dtype         dtype of every parameter and activation
 */
public record ModelConfig(Input input, int inputFeatures, boolean inputLinear, LstmSpec lstm, double dropout,
                          int classes, Readout readout, double initRange, DType dtype) {
    public enum Input { TOKENS, DENSE }

    /** LAST: the output at each sequence's last valid step (a classifier); EVERY: every step (a language model). */
    public enum Readout { LAST, EVERY }

    public ModelConfig {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(lstm, "lstm");
        Objects.requireNonNull(readout, "readout");
        Objects.requireNonNull(dtype, "dtype");
        if (inputFeatures < 1) {
            throw new IllegalArgumentException("inputFeatures: expected >= 1, got " + inputFeatures);
        }
        if (input == Input.TOKENS && inputLinear) {
            throw new IllegalArgumentException("inputLinear: expected false with token input (the embedding is the input layer)");
        }
        if (input == Input.DENSE && !inputLinear && lstm.inputSize() != inputFeatures) {
            throw new IllegalArgumentException("lstm input size: expected " + inputFeatures
                    + " (the feature count, no input Linear), got " + lstm.inputSize());
        }
        if (lstm.batchFirst()) {
            throw new IllegalArgumentException("lstm: expected a time-major spec (the model feeds [T, B, I]), got batch-first");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout: expected a probability in [0, 1), got " + dropout);
        }
        if (classes < 1) {
            throw new IllegalArgumentException("classes: expected >= 1, got " + classes);
        }
        if (!(initRange >= 0)) {
            throw new IllegalArgumentException("initRange: expected >= 0, got " + initRange);
        }
    }

    /** Row-by-row image classifier: T rows of F pixels, the last output into {@code classes}. */
    public static ModelConfig classifier(int features, int hidden, int layers, int classes, int inputLinearSize,
                                         DType dtype) {
        return classifier(features, hidden, layers, classes, inputLinearSize, 0.0, dtype);
    }

    /** As above, with dropout on the LSTM's input and output and between its layers. */
    public static ModelConfig classifier(int features, int hidden, int layers, int classes, int inputLinearSize,
                                         double dropout, DType dtype) {
        boolean linear = inputLinearSize > 0;
        LstmSpec spec = LstmSpec.builder(linear ? inputLinearSize : features, hidden).numLayers(layers)
                .dropout(layers > 1 ? dropout : 0.0).build();
        return new ModelConfig(Input.DENSE, features, linear, spec, dropout, classes, Readout.LAST, 0.0, dtype);
    }

    /** Word-level language model as Zaremba et al.: embedding = hidden size, dropout around and between layers. */
    public static ModelConfig languageModel(int vocab, int hidden, int layers, double dropout, double initRange,
                                            DType dtype) {
        LstmSpec spec = LstmSpec.builder(hidden, hidden).numLayers(layers).dropout(dropout).build();
        return new ModelConfig(Input.TOKENS, vocab, false, spec, dropout, vocab, Readout.EVERY, initRange, dtype);
    }

    /** Width of what the head reads: D * (P or H). */
    public int headInputSize() {
        return lstm.numDirections() * lstm.outputSize();
    }

    /** The fields other than the LSTM spec, as strings (for checkpoint metadata). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model.input", input.name().toLowerCase());
        m.put("model.input_features", Integer.toString(inputFeatures));
        m.put("model.input_linear", Boolean.toString(inputLinear));
        m.put("model.dropout", Double.toString(dropout));
        m.put("model.classes", Integer.toString(classes));
        m.put("model.readout", readout.name().toLowerCase());
        m.put("model.init_range", Double.toString(initRange));
        m.put("model.dtype", dtype.label());
        return m;
    }

    /** The inverse of {@link #toMetadata()}, given the LSTM spec read separately. */
    public static ModelConfig fromMetadata(Map<String, String> m, LstmSpec lstm) {
        try {
            return new ModelConfig(Input.valueOf(need(m, "model.input").toUpperCase()),
                    Integer.parseInt(need(m, "model.input_features")), Boolean.parseBoolean(need(m, "model.input_linear")),
                    lstm, Double.parseDouble(need(m, "model.dropout")), Integer.parseInt(need(m, "model.classes")),
                    Readout.valueOf(need(m, "model.readout").toUpperCase()),
                    Double.parseDouble(need(m, "model.init_range")), DType.parse(need(m, "model.dtype")));
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new IllegalArgumentException("model metadata: " + e.getMessage(), e);
        }
    }

    private static String need(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("expected key '" + key + "', got keys " + m.keySet());
        }
        return v;
    }
}
