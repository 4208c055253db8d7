package dev.lstm4j.io;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmSpec;

/**
 * What a weight file cannot tell about the variant: the three activations (null = sigmoid, tanh, tanh), ONNX clip
 * (NaN = off), the coupled input-forget gate, and the input layout.
 */
public record VariantOptions(Activation[] activations, double clip, boolean inputForget, boolean batchFirst) {
    public static final VariantOptions DEFAULT = new VariantOptions(null, Double.NaN, false, false);

    public VariantOptions {
        if (activations != null && activations.length != 3) {
            throw new IllegalArgumentException("activations: expected 3 (f, g, h), got " + activations.length);
        }
        activations = activations == null ? null : activations.clone();
    }

    /** True when any option that changes the math (not the layout) was given. */
    public boolean setsVariant() {
        return activations != null || !Double.isNaN(clip) || inputForget;
    }

    LstmSpec.Builder applyTo(LstmSpec.Builder b) {
        if (activations != null) {
            b.activations(activations[0], activations[1], activations[2]);
        }
        return b.clip(clip).inputForget(inputForget).batchFirst(batchFirst);
    }
}
