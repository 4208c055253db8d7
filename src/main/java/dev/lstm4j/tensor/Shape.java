package dev.lstm4j.tensor;

import java.util.Arrays;

/** An immutable tensor shape in row-major (C) order. */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    public static Shape of(long... dims) {
        long[] copy = dims.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < 0) {
                throw new IllegalArgumentException(
                        "shape: dimension " + i + " must be >= 0, got " + copy[i] + " in " + Arrays.toString(copy));
            }
        }
        try {
            elementCount(copy); // rejects overflow early
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape: expected at most " + Long.MAX_VALUE + " elements, got "
                    + Arrays.toString(copy) + ", whose product overflows a long", e);
        }
        return new Shape(copy);
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int axis) {
        return dims[axis];
    }

    /** Dimension as an int, for sizes that index Java arrays; fails if it does not fit. */
    public int intDim(int axis) {
        return Math.toIntExact(dims[axis]);
    }

    public long[] dims() {
        return dims.clone();
    }

    public long elementCount() {
        return elementCount(dims);
    }

    private static long elementCount(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The shape without its first dimension: what {@link Tensor#slice(long)} returns. */
    public Shape dropFirst() {
        if (dims.length == 0) {
            throw new IllegalStateException("shape: a scalar has no first dimension");
        }
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** Row-major flat offset of an index, each coordinate checked against its dimension. */
    public long flatIndex(long... index) {
        if (index.length != dims.length) {
            throw new IndexOutOfBoundsException(
                    "index: expected " + dims.length + " coordinates for shape " + this + ", got " + index.length);
        }
        long flat = 0;
        for (int i = 0; i < dims.length; i++) {
            if (index[i] < 0 || index[i] >= dims[i]) {
                throw new IndexOutOfBoundsException("index: coordinate " + i + " is " + index[i]
                        + ", expected 0.." + (dims[i] - 1) + " for shape " + this);
            }
            flat = flat * dims[i] + index[i];
        }
        return flat;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
