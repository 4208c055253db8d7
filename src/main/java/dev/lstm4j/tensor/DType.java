package dev.lstm4j.tensor;

import java.lang.foreign.ValueLayout;

/** Element types a tensor can hold. Host layouts are little-endian, as on every platform lstm4j runs on. */
public enum DType {
    FLOAT32(4, ValueLayout.JAVA_FLOAT_UNALIGNED, "float32"),
    FLOAT64(8, ValueLayout.JAVA_DOUBLE_UNALIGNED, "float64");

    private final int byteSize;
    private final ValueLayout layout;
    private final String label;

    DType(int byteSize, ValueLayout layout, String label) {
        this.byteSize = byteSize;
        this.layout = layout;
        this.label = label;
    }

    public int byteSize() {
        return byteSize;
    }

    public ValueLayout layout() {
        return layout;
    }

    /** The name used on the command line and in files: {@code float32} or {@code float64}. */
    public String label() {
        return label;
    }

    public static DType parse(String name) {
        for (DType d : values()) {
            if (d.label.equalsIgnoreCase(name) || d.name().equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("dtype: expected float32 or float64, got '" + name + "'");
    }

    @Override
    public String toString() {
        return label;
    }
}
