package dev.lstm4j.lstm;

/**
 * The backends lstm4j knows, in the order {@code auto} prefers them. {@link #HOST_KERNELS} (the CUDA kernel sources
 * built for the host) exists to check kernels without a GPU and is never picked by {@code auto}.
 */
public enum BackendKind {
    CUDNN("cudnn", true, "cuDNN's RNN API on an NVIDIA GPU"),
    CUDA_KERNELS("kernels", true, "lstm4j's own CUDA kernels on an NVIDIA GPU"),
    CPU("cpu", true, "the fast CPU backend (BLAS GEMMs, fused Vector API pointwise)"),
    REFERENCE("reference", true, "the plain-Java reference"),
    HOST_KERNELS("kernels-host", false, "lstm4j's CUDA kernel sources compiled for the host (for testing)");

    private final String label;
    private final boolean autoPickable;
    private final String description;

    BackendKind(String label, boolean autoPickable, String description) {
        this.label = label;
        this.autoPickable = autoPickable;
        this.description = description;
    }

    /** Name on the command line and in logs. */
    public String label() {
        return label;
    }

    public boolean autoPickable() {
        return autoPickable;
    }

    public String description() {
        return description;
    }

    public static BackendKind parse(String name) {
        for (BackendKind k : values()) {
            if (k.label.equalsIgnoreCase(name) || k.name().equalsIgnoreCase(name)) {
                return k;
            }
        }
        StringBuilder names = new StringBuilder("auto");
        for (BackendKind k : values()) names.append(", ").append(k.label);
        throw new IllegalArgumentException("backend: expected one of " + names + ", got '" + name + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
