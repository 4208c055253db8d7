package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.lstm.LstmSpec;
import java.util.Locale;
import java.util.Optional;

/**
 * cuDNN's RNN algorithms. lstm4j uses {@link #STANDARD}, which runs every configuration; a persistent algorithm can be
 * forced with the system property {@value #PROPERTY} (standard, persist-static, persist-dynamic,
 * persist-static-small-h), and is refused for specs with a projection and for calls with variable lengths.
 */
public enum CudnnAlgorithm {
    STANDARD(0, "standard"),
    PERSIST_STATIC(1, "persist-static"),
    PERSIST_DYNAMIC(2, "persist-dynamic"),
    PERSIST_STATIC_SMALL_H(3, "persist-static-small-h");

    public static final String PROPERTY = "lstm4j.cudnn.algo";

    private final int cudnnValue;
    private final String label;

    CudnnAlgorithm(int cudnnValue, String label) {
        this.cudnnValue = cudnnValue;
        this.label = label;
    }

    /** The {@code cudnnRNNAlgo_t} value. */
    public int cudnnValue() {
        return cudnnValue;
    }

    public String label() {
        return label;
    }

    public boolean persistent() {
        return this != STANDARD;
    }

    public static CudnnAlgorithm parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (CudnnAlgorithm a : values()) {
            if (a.label.equals(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException(PROPERTY + ": expected standard, persist-static, persist-dynamic or "
                + "persist-static-small-h, got '" + name + "'");
    }

    /** The algorithm the system property asks for, STANDARD when unset. */
    public static CudnnAlgorithm fromSystemProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null ? STANDARD : parse(v);
    }

    /** Why this algorithm cannot run the spec at all. */
    public Optional<String> refusal(LstmSpec spec) {
        if (persistent() && spec.projSize() > 0) {
            return Optional.of("the cuDNN algorithm " + label + " does not run LSTMs with a projection (projSize="
                    + spec.projSize() + "); use standard");
        }
        return Optional.empty();
    }

    /** Why this algorithm cannot run a call whose sequences have these lengths out of {@code seqLength}. */
    public Optional<String> refusal(int[] lengths, int seqLength) {
        if (persistent()) {
            for (int len : lengths) {
                if (len != seqLength) {
                    return Optional.of("the cuDNN algorithm " + label + " is not used with variable lengths (a "
                            + "sequence has length " + len + " < T=" + seqLength + "); use standard");
                }
            }
        }
        return Optional.empty();
    }
}
