package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The weights of an LSTM in the canonical layout of DESIGN.md: PyTorch's names and shapes, gate order i, f, g, o,
 * plus {@code weight_peep_l{k}} [3H] in order i, f, o. Owns the host memory of its tensors; close it to free them.
 * The same type carries parameter gradients.
 */
public final class LstmParams implements AutoCloseable {
    private final LstmSpec spec;
    private final DType dtype;
    private final ResultArena memory; // null for a view of another object's memory
    private volatile Map<String, Tensor> tensors; // insertion order = spec.parameterNames()
    private volatile boolean frozen;

    private LstmParams(LstmSpec spec, DType dtype, ResultArena memory, boolean zeroed) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.memory = memory;
        Map<String, Tensor> map = new LinkedHashMap<>();
        for (String name : spec.parameterNames()) {
            map.put(name, zeroed ? memory.zeros(dtype, spec.parameterShape(name))
                    : memory.uninitialized(dtype, spec.parameterShape(name)));
        }
        this.tensors = Collections.unmodifiableMap(map);
    }

    private LstmParams(LstmSpec spec, DType dtype, Map<String, Tensor> view) {
        this.spec = spec;
        this.dtype = dtype;
        this.memory = null;
        this.tensors = Collections.unmodifiableMap(view);
    }

    /** All parameters zero, in memory of their own. */
    public static LstmParams zeros(LstmSpec spec, DType dtype) {
        return new LstmParams(spec, dtype, ResultArena.own(), true);
    }

    /** For backends: zero parameters (a backward call's gradients) in {@code results}, closed with it if it is owned. */
    public static LstmParams zeros(LstmSpec spec, DType dtype, ResultArena results) {
        return new LstmParams(spec, dtype, Objects.requireNonNull(results, "results"), true);
    }

    /**
     * For backends that write every element of every tensor (a backward call's gradients): parameters in
     * {@code results} whose contents are undefined until written ({@link ResultArena#uninitialized}: not zero-filled,
     * so not paid for twice), closed with it if it is owned.
     */
    public static LstmParams uninitialized(LstmSpec spec, DType dtype, ResultArena results) {
        return new LstmParams(spec, dtype, Objects.requireNonNull(results, "results"), false);
    }

    /**
     * For backends: the same tensors as the call's worker threads may write them, these parameters being in
     * {@code results} ({@link ResultArena#writableByAnyThread}); valid only while the call runs, and closing it
     * frees nothing.
     */
    public LstmParams writableByAnyThread(ResultArena results) {
        Map<String, Tensor> map = new LinkedHashMap<>();
        tensors.forEach((name, t) -> map.put(name, results.writableByAnyThread(t)));
        return new LstmParams(spec, dtype, map);
    }

    /** Parameters drawn by {@code init} from a generator seeded with {@code seed}. */
    public static LstmParams initialized(LstmSpec spec, DType dtype, Initializer init, long seed) {
        LstmParams p = zeros(spec, dtype);
        init.initialize(p, new java.util.SplittableRandom(seed));
        return p;
    }

    public LstmSpec spec() {
        return spec;
    }

    public DType dtype() {
        return dtype;
    }

    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public Map<String, Tensor> asMap() {
        return tensors;
    }

    /** Whether every tensor's memory is still open: false once these, or the memory they view, are closed. */
    public boolean isOpen() {
        for (Tensor t : tensors.values()) {
            if (!t.segment().scope().isAlive()) {
                return false;
            }
        }
        return true;
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("parameter name: expected one of " + tensors.keySet() + ", got '" + name + "'");
        }
        return t;
    }

    public Tensor weightIh(int layer, int direction) { return get(LstmSpec.weightIh(layer, direction)); }
    public Tensor weightHh(int layer, int direction) { return get(LstmSpec.weightHh(layer, direction)); }
    public Tensor biasIh(int layer, int direction) { return get(LstmSpec.biasIh(layer, direction)); }
    public Tensor biasHh(int layer, int direction) { return get(LstmSpec.biasHh(layer, direction)); }
    public Tensor weightHr(int layer, int direction) { return get(LstmSpec.weightHr(layer, direction)); }
    public Tensor weightPeep(int layer, int direction) { return get(LstmSpec.weightPeep(layer, direction)); }

    /**
     * Makes these parameters read-only for good, so that backends may keep what they derive from them (the CPU
     * backend's packed weights, the GPU backends' device copies) from one call to the next instead of deriving it
     * again on every call: the inference of a service whose weights do not change. From here on {@link #get} and
     * {@link #asMap} give read-only tensors (a write through them throws IllegalArgumentException, "read-only
     * segment") and {@link #copyFrom} throws IllegalStateException. Tensors taken from this object before the call
     * are writable views of the same memory: writing to them after freezing is an error that no check catches
     * (backends may go on using what they derived from the old values). Idempotent; returns this.
     */
    public synchronized LstmParams freeze() {
        if (!frozen) {
            Map<String, Tensor> map = new LinkedHashMap<>();
            tensors.forEach((name, t) -> map.put(name, Tensor.wrap(t.segment().asReadOnly(), dtype, t.shape())));
            tensors = Collections.unmodifiableMap(map);
            frozen = true;
        }
        return this;
    }

    /** Whether {@link #freeze} was called. */
    public boolean isFrozen() {
        return frozen;
    }

    /** Copies every tensor of {@code other} (same spec; any dtype) into this one. */
    public void copyFrom(LstmParams other) {
        if (frozen) {
            throw new IllegalStateException("params: expected parameters that are not frozen, got frozen ones "
                    + "(freeze() was called); copy them into new LstmParams instead");
        }
        if (!other.spec.equals(spec)) {
            throw new IllegalArgumentException("params: expected spec " + spec + ", got " + other.spec);
        }
        for (String name : tensors.keySet()) {
            get(name).copyFrom(other.get(name));
        }
    }

    /** A copy in {@code target} dtype, owning its own memory. */
    public LstmParams to(DType target) {
        LstmParams copy = zeros(spec, target);
        copy.copyFrom(this);
        return copy;
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors.values()) {
            n += t.elementCount();
        }
        return n;
    }

    /**
     * Frees the tensors, unless they live in an arena a caller passed to a backward call (which frees them when it
     * closes) or these are a view. Idempotent; the tensors must not be used afterwards.
     */
    @Override
    public synchronized void close() {
        if (memory != null) {
            memory.close();
        }
    }
}
