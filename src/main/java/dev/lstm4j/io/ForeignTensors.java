package dev.lstm4j.io;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** Lookup and shape checks on the tensors of a foreign weight file, with errors that name the file and tensor. */
final class ForeignTensors {
    private final Path source;
    private final Map<String, Tensor> tensors;
    private final WeightFormat format;

    ForeignTensors(Path source, Map<String, Tensor> tensors, WeightFormat format) {
        this.source = source;
        this.tensors = tensors;
        this.format = format;
    }

    Path source() {
        return source;
    }

    boolean has(String name) {
        return tensors.containsKey(name);
    }

    Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw error("tensor '" + name + "' is missing (names in the file: " + tensors.keySet() + ")");
        }
        return t;
    }

    /** The tensor's values, after checking its shape is exactly {@code dims}. */
    double[] values(String name, long... dims) {
        Tensor t = get(name);
        if (!t.shape().equals(Shape.of(dims))) {
            throw error("tensor '" + name + "': expected shape " + Arrays.toString(dims) + ", got " + t.shape());
        }
        return t.toDoubleArray();
    }

    long[] shape(String name, int rank) {
        Tensor t = get(name);
        if (t.shape().rank() != rank) {
            throw error("tensor '" + name + "': expected rank " + rank + ", got shape " + t.shape());
        }
        return t.shape().dims();
    }

    int gateSize(String name, long rows) {
        if (rows <= 0 || rows % 4 != 0) {
            throw error("tensor '" + name + "': expected a gate dimension of 4*H, got " + rows);
        }
        return Math.toIntExact(rows / 4);
    }

    MalformedFileException error(String message) {
        return new MalformedFileException(source, format.label() + " weights: " + message);
    }

    static Tensor tensor(Arena arena, DType dtype, double[] values, long... dims) {
        return Tensor.of(arena, dtype, Shape.of(dims), values);
    }

    /** Natural order: digit runs compare as numbers, so lstm_2 comes before lstm_10. */
    static int naturalCompare(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) i++;
                while (j < b.length() && Character.isDigit(b.charAt(j))) j++;
                int c = new java.math.BigInteger(a.substring(si, i)).compareTo(new java.math.BigInteger(b.substring(sj, j)));
                if (c != 0) return c;
            } else {
                if (ca != cb) return Character.compare(ca, cb);
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
