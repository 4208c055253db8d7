package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmSpec;

/** The per-cell settings the pointwise kernels take, in the form of the C ABI (activation codes, float bounds). */
record CellOptions(int fKind, float fAlpha, float fBeta, int gKind, float gAlpha, float gBeta, int hKind,
                   float hAlpha, float hBeta, boolean inputForget, boolean hasClip, float clip, boolean hasCellClip,
                   float cellClip) {

    static CellOptions of(LstmSpec spec) {
        Activation f = spec.gateActivation();
        Activation g = spec.cellActivation();
        Activation h = spec.hiddenActivation();
        return new CellOptions(code(f), (float) f.alpha(), (float) f.beta(), code(g), (float) g.alpha(),
                (float) g.beta(), code(h), (float) h.alpha(), (float) h.beta(), spec.inputForget(), spec.hasClip(),
                spec.hasClip() ? (float) spec.clip() : 0f, spec.hasCellClip(),
                spec.hasCellClip() ? (float) spec.cellClip() : 0f);
    }

    /** The kernels' activation numbering (kernels/activations.cuh, enum ActKind). */
    static int code(Activation a) {
        return switch (a.kind()) {
            case SIGMOID -> 0;
            case TANH -> 1;
            case RELU -> 2;
            case AFFINE -> 3;
            case LEAKY_RELU -> 4;
            case THRESHOLDED_RELU -> 5;
            case SCALED_TANH -> 6;
            case HARD_SIGMOID -> 7;
            case ELU -> 8;
            case SOFTSIGN -> 9;
            case SOFTPLUS -> 10;
        };
    }
}
