package dev.lstm4j.io;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * An array read from a .npy file: its shape, its NumPy dtype ({@code <f4}, {@code <f8}, {@code <i4}, {@code <i8}),
 * and its values, floats in a tensor of the matching dtype, integers as longs.
 */
public record NpyArray(Path source, String descr, Shape shape, Tensor floats, long[] integers) {

    public boolean isFloat() {
        return floats != null;
    }

    /** The values as a tensor of {@code dtype} in {@code arena}; integers are refused (an input must be float). */
    public Tensor toTensor(Arena arena, DType dtype) {
        if (floats == null) {
            throw new IllegalArgumentException(source + ": expected a float array (<f4 or <f8), got " + descr);
        }
        return floats.to(dtype, arena);
    }

    /** The values as ints (lengths); floats are refused, and so are values that do not fit an int. */
    public int[] toInts() {
        if (integers == null) {
            throw new IllegalArgumentException(source + ": expected an integer array (<i4 or <i8), got " + descr);
        }
        int[] out = new int[integers.length];
        for (int i = 0; i < out.length; i++) {
            if (integers[i] < Integer.MIN_VALUE || integers[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(source + ": element " + i + " is " + integers[i]
                        + ", expected a 32-bit integer");
            }
            out[i] = (int) integers[i];
        }
        return out;
    }
}
