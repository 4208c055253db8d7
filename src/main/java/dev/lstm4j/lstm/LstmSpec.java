package dev.lstm4j.lstm;

import dev.lstm4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything that defines an LSTM variant: sizes, stacking, direction, projection, peepholes, the coupled
 * input-forget gate, activations, clipping, inter-layer dropout and the input layout. Immutable; build with
 * {@link #builder(int, int)}, which validates in {@link Builder#build()}.
 *
 * <p>Two kinds of clipping exist and are kept apart because the systems we interoperate with disagree:
 * {@link #clip()} is ONNX's {@code clip} (bounds the input of every activation: the four gate pre-activations and the
 * cell value fed to h, while the state itself carries on unclipped); {@link #cellClip()} is cuDNN's cell clip (the
 * cell state itself is clamped after each update, and the clamped value is what the next step reads).
 */
public final class LstmSpec {
    private final int inputSize;
    private final int hiddenSize;
    private final int numLayers;
    private final int projSize;
    private final boolean bidirectional;
    private final boolean peepholes;
    private final boolean inputForget;
    private final Activation gateActivation;
    private final Activation cellActivation;
    private final Activation hiddenActivation;
    private final double clip;
    private final double cellClip;
    private final double dropout;
    private final boolean batchFirst;

    private LstmSpec(Builder b) {
        inputSize = b.inputSize;
        hiddenSize = b.hiddenSize;
        numLayers = b.numLayers;
        projSize = b.projSize;
        bidirectional = b.bidirectional;
        peepholes = b.peepholes;
        inputForget = b.inputForget;
        gateActivation = b.gateActivation;
        cellActivation = b.cellActivation;
        hiddenActivation = b.hiddenActivation;
        clip = b.clip;
        cellClip = b.cellClip;
        dropout = b.dropout;
        batchFirst = b.batchFirst;
    }

    public static Builder builder(int inputSize, int hiddenSize) {
        return new Builder().inputSize(inputSize).hiddenSize(hiddenSize);
    }

    public Builder toBuilder() {
        return new Builder().inputSize(inputSize).hiddenSize(hiddenSize).numLayers(numLayers).projSize(projSize)
                .bidirectional(bidirectional).peepholes(peepholes).inputForget(inputForget)
                .activations(gateActivation, cellActivation, hiddenActivation).clip(clip).cellClip(cellClip)
                .dropout(dropout).batchFirst(batchFirst);
    }

    public int inputSize() { return inputSize; }
    public int hiddenSize() { return hiddenSize; }
    public int numLayers() { return numLayers; }
    /** PyTorch's {@code proj_size}; 0 means no projection. */
    public int projSize() { return projSize; }
    public boolean bidirectional() { return bidirectional; }
    public boolean peepholes() { return peepholes; }
    /** ONNX {@code input_forget}: the forget gate is 1 - i. */
    public boolean inputForget() { return inputForget; }
    /** f in ONNX: the activation of the i, f and o gates. */
    public Activation gateActivation() { return gateActivation; }
    /** g in ONNX: the activation of the cell candidate. */
    public Activation cellActivation() { return cellActivation; }
    /** h in ONNX: the activation applied to the cell before the output gate. */
    public Activation hiddenActivation() { return hiddenActivation; }
    /** ONNX clip threshold; {@link Double#NaN} when off. */
    public double clip() { return clip; }
    public boolean hasClip() { return !Double.isNaN(clip); }
    /** cuDNN cell-clip threshold; {@link Double#NaN} when off. */
    public double cellClip() { return cellClip; }
    public boolean hasCellClip() { return !Double.isNaN(cellClip); }
    /** Dropout probability applied between layers in training mode (not after the last layer). */
    public double dropout() { return dropout; }
    public boolean batchFirst() { return batchFirst; }

    public int numDirections() {
        return bidirectional ? 2 : 1;
    }

    /** Size of h: the projection size when there is one, else the hidden size. */
    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : numDirections() * outputSize();
    }

    /** The activations are the standard sigmoid, tanh, tanh. */
    public boolean hasStandardActivations() {
        return gateActivation.equals(Activation.SIGMOID) && cellActivation.equals(Activation.TANH)
                && hiddenActivation.equals(Activation.TANH);
    }

    /** Suffix of parameter names for a direction, as PyTorch names them. */
    public static String suffix(int layer, int direction) {
        return "_l" + layer + (direction == 1 ? "_reverse" : "");
    }

    public static String weightIh(int layer, int direction) { return "weight_ih" + suffix(layer, direction); }
    public static String weightHh(int layer, int direction) { return "weight_hh" + suffix(layer, direction); }
    public static String biasIh(int layer, int direction) { return "bias_ih" + suffix(layer, direction); }
    public static String biasHh(int layer, int direction) { return "bias_hh" + suffix(layer, direction); }
    public static String weightHr(int layer, int direction) { return "weight_hr" + suffix(layer, direction); }
    public static String weightPeep(int layer, int direction) { return "weight_peep" + suffix(layer, direction); }

    /** Canonical parameter names in PyTorch's order (per layer: forward then reverse), peepholes last per direction. */
    public List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            for (int d = 0; d < numDirections(); d++) {
                names.add(weightIh(l, d));
                names.add(weightHh(l, d));
                names.add(biasIh(l, d));
                names.add(biasHh(l, d));
                if (projSize > 0) {
                    names.add(weightHr(l, d));
                }
                if (peepholes) {
                    names.add(weightPeep(l, d));
                }
            }
        }
        return names;
    }

    /** Shape of a canonical parameter: weight_ih [4H, I], weight_hh [4H, P or H], biases [4H], weight_hr [P, H], weight_peep [3H]. */
    public Shape parameterShape(String name) {
        for (int l = 0; l < numLayers; l++) {
            for (int d = 0; d < numDirections(); d++) {
                long g = 4L * hiddenSize;
                if (name.equals(weightIh(l, d))) return Shape.of(g, layerInputSize(l));
                if (name.equals(weightHh(l, d))) return Shape.of(g, outputSize());
                if (name.equals(biasIh(l, d)) || name.equals(biasHh(l, d))) return Shape.of(g);
                if (projSize > 0 && name.equals(weightHr(l, d))) return Shape.of(projSize, hiddenSize);
                if (peepholes && name.equals(weightPeep(l, d))) return Shape.of(3L * hiddenSize);
            }
        }
        throw new IllegalArgumentException("parameter name: expected one of " + parameterNames() + ", got '" + name + "'");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LstmSpec s && inputSize == s.inputSize && hiddenSize == s.hiddenSize
                && numLayers == s.numLayers && projSize == s.projSize && bidirectional == s.bidirectional
                && peepholes == s.peepholes && inputForget == s.inputForget
                && gateActivation.equals(s.gateActivation) && cellActivation.equals(s.cellActivation)
                && hiddenActivation.equals(s.hiddenActivation) && Double.compare(clip, s.clip) == 0
                && Double.compare(cellClip, s.cellClip) == 0 && Double.compare(dropout, s.dropout) == 0
                && batchFirst == s.batchFirst;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputSize, hiddenSize, numLayers, projSize, bidirectional, peepholes, inputForget,
                gateActivation, cellActivation, hiddenActivation, clip, cellClip, dropout, batchFirst);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("LstmSpec[input=").append(inputSize).append(", hidden=").append(hiddenSize)
                .append(", layers=").append(numLayers);
        if (projSize > 0) sb.append(", proj=").append(projSize);
        if (bidirectional) sb.append(", bidirectional");
        if (peepholes) sb.append(", peepholes");
        if (inputForget) sb.append(", input-forget");
        if (!hasStandardActivations()) {
            sb.append(", activations=").append(gateActivation).append(',').append(cellActivation).append(',')
                    .append(hiddenActivation);
        }
        if (hasClip()) sb.append(", clip=").append(clip);
        if (hasCellClip()) sb.append(", cell-clip=").append(cellClip);
        if (dropout > 0) sb.append(", dropout=").append(dropout);
        if (batchFirst) sb.append(", batch-first");
        return sb.append(']').toString();
    }

    /** Builder; every field is checked in {@link #build()}. */
    public static final class Builder {
        private int inputSize;
        private int hiddenSize;
        private int numLayers = 1;
        private int projSize;
        private boolean bidirectional;
        private boolean peepholes;
        private boolean inputForget;
        private Activation gateActivation = Activation.SIGMOID;
        private Activation cellActivation = Activation.TANH;
        private Activation hiddenActivation = Activation.TANH;
        private double clip = Double.NaN;
        private double cellClip = Double.NaN;
        private double dropout;
        private boolean batchFirst;

        private Builder() {}

        public Builder inputSize(int v) { inputSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder numLayers(int v) { numLayers = v; return this; }
        public Builder projSize(int v) { projSize = v; return this; }
        public Builder bidirectional(boolean v) { bidirectional = v; return this; }
        public Builder peepholes(boolean v) { peepholes = v; return this; }
        public Builder inputForget(boolean v) { inputForget = v; return this; }
        /** ONNX's f, g, h: gate activation, cell-candidate activation, hidden activation. */
        public Builder activations(Activation f, Activation g, Activation h) {
            gateActivation = f;
            cellActivation = g;
            hiddenActivation = h;
            return this;
        }
        /** ONNX clip; NaN turns it off. */
        public Builder clip(double v) { clip = v; return this; }
        /** cuDNN cell clip; NaN turns it off. */
        public Builder cellClip(double v) { cellClip = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder batchFirst(boolean v) { batchFirst = v; return this; }

        public LstmSpec build() {
            requirePositive("inputSize", inputSize);
            requirePositive("hiddenSize", hiddenSize);
            requirePositive("numLayers", numLayers);
            if (projSize < 0 || projSize >= hiddenSize && projSize != 0) {
                throw new IllegalArgumentException("projSize: expected 0 (off) or 1.." + (hiddenSize - 1)
                        + " (smaller than hiddenSize, as PyTorch requires), got " + projSize);
            }
            if (gateActivation == null || cellActivation == null || hiddenActivation == null) {
                throw new IllegalArgumentException("activations: expected three activations (f, g, h), got "
                        + gateActivation + ", " + cellActivation + ", " + hiddenActivation);
            }
            if (!Double.isNaN(clip) && !(clip > 0 && Double.isFinite(clip))) {
                throw new IllegalArgumentException("clip: expected a finite threshold > 0 or NaN (off), got " + clip);
            }
            if (!Double.isNaN(cellClip) && !(cellClip > 0 && Double.isFinite(cellClip))) {
                throw new IllegalArgumentException("cellClip: expected a finite threshold > 0 or NaN (off), got " + cellClip);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout: expected a probability in [0, 1), got " + dropout);
            }
            return new LstmSpec(this);
        }

        private static void requirePositive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + ": expected > 0, got " + v);
            }
        }
    }
}
