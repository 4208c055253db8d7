package dev.lstm4j.cpu;

import java.util.Locale;

/**
 * Where the fast CPU backend runs the GEMMs of each time step. Set with {@link FastCpuProvider#GEMM_PROPERTY} or
 * the provider's constructor.
 */
public enum RecurrentGemm {
    /**
     * Our Vector API kernel ({@link PackedGemm}) on weights packed once per call, where vectors hold at least 8
     * floats (elsewhere OpenBLAS): W_hh for the per-step recurrent GEMMs, and [W_ih W_hh] when the layers run as a
     * pipeline (then the input projection and input gradient are per-step GEMMs too); and the weight gradients dW_ih
     * and dW_hh where 4H is a multiple of the kernel's row block. OpenBLAS re-packs its weight operand on every call,
     * which with few rows per step costs more than the arithmetic. The default.
     */
    PACKED,
    /**
     * OpenBLAS for every GEMM, per step included, and no layer pipeline: the plain BLAS formulation, for comparison
     * and for machines where the packed kernel is not measured.
     */
    BLAS;

    /** "packed" or "blas", any case. */
    public static RecurrentGemm parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "packed" -> PACKED;
            case "blas" -> BLAS;
            default -> throw new IllegalArgumentException(FastCpuProvider.GEMM_PROPERTY
                    + ": expected 'packed' or 'blas', got '" + text + "'");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
