package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * The LSTM layer a user holds: a spec, its parameters, and the backend that runs them. Built with
 * {@link #builder(LstmSpec)}; close it to free its parameters and the backend's buffers.
 *
 * <pre>{@code
 * try (Lstm lstm = Lstm.builder(spec).dtype(DType.FLOAT64).seed(7).build();
 *      LstmOutput out = lstm.forward(LstmInput.of(x).training(true));
 *      LstmGradients g = lstm.backward(out, gradOutput)) {
 *     Tensor dW = g.params().get("weight_ih_l0");
 * }
 * }</pre>
 */
public final class Lstm implements AutoCloseable {
    private final LstmSpec spec;
    private final LstmParams params;
    private final LstmBackend backend;
    private final BackendChoice choice;
    private volatile boolean closed;

    private Lstm(LstmSpec spec, LstmParams params, LstmBackend backend, BackendChoice choice) {
        this.spec = spec;
        this.params = params;
        this.backend = backend;
        this.choice = choice;
    }

    public static Builder builder(LstmSpec spec) {
        return new Builder(spec);
    }

    public LstmSpec spec() { return spec; }
    public DType dtype() { return params.dtype(); }
    /** The live parameters: writes to them change what the next call computes. */
    public LstmParams params() { return params; }
    /** Which backend runs this layer, and why. */
    public BackendChoice backendChoice() { return choice; }

    /** Inference on a full-length batch with zero initial state. */
    public LstmOutput forward(Tensor input) {
        return forward(LstmInput.of(input));
    }

    /** Results in an arena of their own, readable by any thread, freed when the output closes. */
    public LstmOutput forward(LstmInput input) {
        requireOpen();
        LstmShapes.checkInput(spec, params.dtype(), input);
        return backend.forward(params, input, ResultArena.own());
    }

    /**
     * Results allocated in the caller's {@code results} arena, which frees them when it closes; closing the output
     * frees only what the backend kept for backward. With a confined arena the results are the calling thread's
     * alone but cost no handshake between threads to free (a shared arena's close: about 60 us on a 2-core VM),
     * which is what a service thread that reads its own results wants.
     */
    public LstmOutput forward(LstmInput input, Arena results) {
        requireOpen();
        LstmShapes.checkInput(spec, params.dtype(), input);
        return backend.forward(params, input, ResultArena.in(results));
    }

    /** Gradients of {@code sum(output * gradOutput)}. */
    public LstmGradients backward(LstmOutput forward, Tensor gradOutput) {
        return backward(forward, gradOutput, null, null);
    }

    /** Gradients given the loss's gradients for output, h_n and c_n; null means zero. */
    public LstmGradients backward(LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn) {
        requireOpen();
        checkGradients(forward, gradOutput, gradHn, gradCn);
        return backend.backward(params, forward, gradOutput, gradHn, gradCn, ResultArena.own());
    }

    /**
     * Gradients (parameter gradients included) allocated in the caller's {@code results} arena, which frees them
     * when it closes; as {@link #forward(LstmInput, Arena)} for the forward results.
     */
    public LstmGradients backward(LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn,
                                  Arena results) {
        requireOpen();
        checkGradients(forward, gradOutput, gradHn, gradCn);
        return backend.backward(params, forward, gradOutput, gradHn, gradCn, ResultArena.in(results));
    }

    private void checkGradients(LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn) {
        Objects.requireNonNull(forward, "forward");
        LstmInput in = forward.input();
        LstmShapes.checkGradients(spec, params.dtype(), in.seqLength(spec), in.batchSize(spec), gradOutput, gradHn,
                gradCn);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("lstm: expected an open layer, got one already closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            backend.close();
        } finally {
            params.close();
        }
    }

    /** Validates in {@link #build()}. */
    public static final class Builder {
        private final LstmSpec spec;
        private DType dtype = DType.FLOAT32;
        private boolean dtypeSet;
        private String backend = "auto";
        private Initializer initializer = Initializer.pytorchUniform();
        private long seed = 0L;
        private LstmParams params;
        private Dispatcher dispatcher;

        private Builder(LstmSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
        }

        public Builder dtype(DType v) {
            dtype = Objects.requireNonNull(v, "dtype");
            dtypeSet = true;
            return this;
        }
        /** "auto" or a {@link BackendKind} label: reference, cpu, cudnn, kernels, kernels-host. */
        public Builder backend(String v) { backend = Objects.requireNonNull(v, "backend"); return this; }
        public Builder backend(BackendKind v) { backend = v.label(); return this; }
        public Builder initializer(Initializer v) { initializer = Objects.requireNonNull(v, "initializer"); return this; }
        public Builder seed(long v) { seed = v; return this; }
        /**
         * Existing parameters (the layer takes ownership); their spec must equal this one, and their dtype sets the
         * layer's (a different one set with {@link #dtype} is refused).
         */
        public Builder params(LstmParams v) { params = v; return this; }
        /** For tests and tools that bring their own set of providers. */
        public Builder dispatcher(Dispatcher v) { dispatcher = v; return this; }

        public Lstm build() {
            if (params != null) {
                if (!params.spec().equals(spec)) {
                    throw new IllegalArgumentException("params: expected spec " + spec + ", got " + params.spec());
                }
                if (dtypeSet && params.dtype() != dtype) {
                    throw new IllegalArgumentException("params: expected dtype " + dtype + " (set with dtype()), got "
                            + params.dtype());
                }
                dtype = params.dtype();
            }
            Dispatcher d = dispatcher != null ? dispatcher : Dispatcher.discover();
            Dispatcher.Selection sel = backend.equalsIgnoreCase("auto")
                    ? d.chooseAuto(spec, dtype)
                    : d.choose(BackendKind.parse(backend), spec, dtype);
            LstmParams p = params != null ? params : LstmParams.initialized(spec, dtype, initializer, seed);
            return new Lstm(spec, p, sel.provider().create(spec, dtype), sel.choice());
        }
    }
}
