package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Device;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The shapes of a call and their validation. Every check here runs before a backend sees the call, so that a bad
 * shape or argument fails with a clear message before any native code runs.
 */
public final class LstmShapes {
    private LstmShapes() {}

    /** [T, B, D*P] or [B, T, D*P]. */
    public static Shape outputShape(LstmSpec spec, int seqLength, int batch) {
        long width = (long) spec.numDirections() * spec.outputSize();
        return spec.batchFirst() ? Shape.of(batch, seqLength, width) : Shape.of(seqLength, batch, width);
    }

    /** h_n: [D*L, B, P or H]. */
    public static Shape hiddenStateShape(LstmSpec spec, int batch) {
        return Shape.of((long) spec.numDirections() * spec.numLayers(), batch, spec.outputSize());
    }

    /** c_n: [D*L, B, H]. */
    public static Shape cellStateShape(LstmSpec spec, int batch) {
        return Shape.of((long) spec.numDirections() * spec.numLayers(), batch, spec.hiddenSize());
    }

    public static void checkInput(LstmSpec spec, DType dtype, LstmInput in) {
        Objects.requireNonNull(in, "input");
        Tensor x = in.input();
        String layout = spec.batchFirst() ? "[B, T, I]" : "[T, B, I]";
        if (x.shape().rank() != 3) {
            throw new IllegalArgumentException("input: expected rank 3 " + layout + ", got shape " + x.shape());
        }
        if (x.shape().dim(2) != spec.inputSize()) {
            throw new IllegalArgumentException("input: expected last dimension I=" + spec.inputSize() + " in "
                    + layout + ", got shape " + x.shape());
        }
        requireDtype("input", x, dtype);
        requireReadable("input", x);
        int t = in.seqLength(spec);
        int b = in.batchSize(spec);
        if (t < 1 || b < 1) {
            throw new IllegalArgumentException("input: expected T >= 1 and B >= 1 in " + layout + ", got shape " + x.shape());
        }
        if (in.hasLengths()) {
            int[] lengths = in.lengths();
            if (lengths.length != b) {
                throw new IllegalArgumentException("lengths: expected " + b + " entries (one per batch entry), got "
                        + lengths.length);
            }
            for (int i = 0; i < lengths.length; i++) {
                if (lengths[i] < 1 || lengths[i] > t) {
                    throw new IllegalArgumentException("lengths[" + i + "]: expected 1.." + t + " (T), got " + lengths[i]
                            + " in " + Arrays.toString(lengths));
                }
            }
        }
        if ((in.h0() == null) != (in.c0() == null)) {
            throw new IllegalArgumentException("initial state: expected both h0 and c0 or neither, got "
                    + (in.h0() == null ? "only c0" : "only h0"));
        }
        if (in.h0() != null) {
            requireShape("h0", in.h0(), hiddenStateShape(spec, b), dtype);
            requireShape("c0", in.c0(), cellStateShape(spec, b), dtype);
            requireReadable("h0", in.h0());
            requireReadable("c0", in.c0());
        }
    }

    /**
     * Checks the parameters handed to a backend built for spec and dtype: the same tensors by name and shape (a spec
     * that differs only in what the parameters do not hold, such as clip or dropout, may share them), the dtype,
     * and open. Parameters of other sizes would be read with the backend's sizes: wrong values where they are
     * larger, an index out of bounds where smaller.
     */
    public static void checkParams(LstmSpec spec, DType dtype, LstmParams params) {
        Objects.requireNonNull(params, "params");
        if (!params.spec().equals(spec)) {
            requireSameParameters(spec, params);
        }
        if (params.dtype() != dtype) {
            throw new IllegalArgumentException("params: expected dtype " + dtype + ", got " + params.dtype());
        }
        if (!params.isOpen()) {
            throw new IllegalArgumentException("params: expected open parameters, got closed ones");
        }
    }

    private static void requireSameParameters(LstmSpec spec, LstmParams params) {
        List<String> names = spec.parameterNames();
        if (!names.equals(params.spec().parameterNames())) {
            throw new IllegalArgumentException("params: expected " + names + " (" + spec + "), got "
                    + params.spec().parameterNames() + " (" + params.spec() + ")");
        }
        for (String name : names) {
            Shape expected = spec.parameterShape(name);
            Shape got = params.get(name).shape();
            if (!expected.equals(got)) {
                throw new IllegalArgumentException("params: expected " + name + " of shape " + expected + " (" + spec
                        + "), got " + got + " (" + params.spec() + ")");
            }
        }
    }

    /** Checks the gradients handed to backward against the forward call's shapes; null entries mean zero. */
    public static void checkGradients(LstmSpec spec, DType dtype, int seqLength, int batch,
                                      Tensor gradOutput, Tensor gradHn, Tensor gradCn) {
        if (gradOutput != null) {
            requireShape("gradOutput", gradOutput, outputShape(spec, seqLength, batch), dtype);
            requireReadable("gradOutput", gradOutput);
        }
        if (gradHn != null) {
            requireShape("gradHn", gradHn, hiddenStateShape(spec, batch), dtype);
            requireReadable("gradHn", gradHn);
        }
        if (gradCn != null) {
            requireShape("gradCn", gradCn, cellStateShape(spec, batch), dtype);
            requireReadable("gradCn", gradCn);
        }
    }

    public static void requireShape(String name, Tensor t, Shape expected, DType dtype) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(name + ": expected shape " + expected + ", got " + t.shape());
        }
        requireDtype(name, t, dtype);
    }

    /**
     * A host tensor the calling thread can read: its arena open, and not confined to another thread (a confined
     * arena's memory is its owner thread's alone). Device tensors are the device's to check.
     */
    private static void requireReadable(String name, Tensor t) {
        if (t.device() != Device.HOST) {
            return;
        }
        MemorySegment memory = t.segment();
        if (!memory.scope().isAlive()) {
            throw new IllegalArgumentException(name + ": expected a tensor whose arena is open, got one whose arena "
                    + "is closed");
        }
        if (!memory.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(name + ": expected a tensor the calling thread may read, got one "
                    + "confined to another thread");
        }
    }

    private static void requireDtype(String name, Tensor t, DType dtype) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + ": expected dtype " + dtype + " (the layer's), got " + t.dtype());
        }
    }
}
