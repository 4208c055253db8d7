package dev.lstm4j.io;

/** The weight layouts lstm4j reads and writes; see {@link WeightFiles} and the README's "Weight formats". */
public enum WeightFormat {
    /** PyTorch {@code nn.LSTM} state_dict names and shapes, gate order i, f, g, o, two biases. */
    PYTORCH("pytorch"),
    /** Keras/TensorFlow {@code LSTM}: kernel [I, 4H], recurrent_kernel [H, 4H], one bias [4H], gate order i, f, c, o. */
    KERAS("keras"),
    /** ONNX {@code LSTM}: W [D, 4H, I], R [D, 4H, H], B [D, 8H], P [D, 3H], gate order i, o, f, c. */
    ONNX("onnx"),
    /** Deeplearning4j {@code LSTM}/{@code GravesLSTM}: W [I, 4H], RW [H, 4H(+3)], b [1, 4H], DL4J's gate order. */
    DL4J("dl4j"),
    /** lstm4j's canonical names: a checkpoint when the spec is in the metadata, else read as PyTorch names. */
    LSTM4J("lstm4j");

    private final String label;

    WeightFormat(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static WeightFormat parse(String name) {
        for (WeightFormat f : values()) {
            if (f.label.equalsIgnoreCase(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("format: expected pytorch, keras, onnx, dl4j or lstm4j, got '" + name + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
