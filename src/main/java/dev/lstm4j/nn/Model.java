package dev.lstm4j.nn;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * "Inputs -> LSTM stack -> head": an embedding (token input) or dense features with an optional Linear in front,
 * dropout, an {@link Lstm} on whichever backend its builder picks, dropout, and a Linear head that reads either the
 * last valid step of each sequence or every step. Parameters are named tensors ({@code embedding.weight},
 * {@code input.weight}, {@code lstm.weight_ih_l0}, {@code head.bias}, ...) with gradients beside them; backward
 * accumulates into the gradients until {@link #zeroGrad()}.
 */
public final class Model implements AutoCloseable {
    private final ModelConfig config;
    private final Arena arena = Arena.ofShared();
    private final Embedding embedding; // TOKENS only
    private final Linear inputLinear;  // DENSE with inputLinear only
    private final Lstm lstm;
    private final Linear head;
    private final Dropout dropout;
    private final List<Param> params;

    /** A model initialised from {@code seed}; {@code backend} is "auto" or a backend label for the LSTM. */
    public Model(ModelConfig config, long seed, String backend) {
        this.config = config;
        SplittableRandom random = new SplittableRandom(seed);
        LstmSpec spec = config.lstm();
        double range = config.initRange();
        if (config.input() == ModelConfig.Input.TOKENS) {
            embedding = new Embedding("embedding", config.inputFeatures(), spec.inputSize(), range > 0 ? range : 0.1,
                    config.dtype(), arena, random.split());
            inputLinear = null;
        } else {
            embedding = null;
            inputLinear = config.inputLinear()
                    ? new Linear("input", config.inputFeatures(), spec.inputSize(), config.dtype(), arena, random.split())
                    : null;
        }
        Initializer init = range > 0 ? uniform(range) : Initializer.pytorchUniform();
        lstm = Lstm.builder(spec).dtype(config.dtype()).backend(backend).initializer(init)
                .seed(random.nextLong()).build();
        head = new Linear("head", config.headInputSize(), config.classes(), config.dtype(), arena, random.split());
        if (range > 0) {
            for (Param p : head.params()) fillUniform(p.value(), range, random);
            if (inputLinear != null) for (Param p : inputLinear.params()) fillUniform(p.value(), range, random);
        }
        dropout = new Dropout(config.dropout());
        List<Param> ps = new ArrayList<>();
        if (embedding != null) ps.addAll(embedding.params());
        if (inputLinear != null) ps.addAll(inputLinear.params());
        for (Map.Entry<String, Tensor> e : lstm.params().asMap().entrySet()) {
            ps.add(new Param("lstm." + e.getKey(), e.getValue(), Tensor.zeros(arena, config.dtype(), e.getValue().shape())));
        }
        ps.addAll(head.params());
        params = Collections.unmodifiableList(ps);
    }

    public ModelConfig config() { return config; }
    public Lstm lstm() { return lstm; }
    /** Every parameter, in a fixed order: input layer, LSTM (canonical order), head. */
    public List<Param> params() { return params; }

    public Map<String, Tensor> namedValues() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Param p : params) m.put(p.name(), p.value());
        return m;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : params) n += p.value().elementCount();
        return n;
    }

    public void zeroGrad() {
        for (Param p : params) Tensors.zero(p.grad());
    }

    /**
     * Runs the model. {@code state} (null: zeros) is the initial LSTM state; {@code dropoutSeed} draws every dropout
     * mask of this call, so a seeded run is reproducible. The returned pass owns its memory; close it after backward.
     */
    public Pass forward(ModelInput in, RecurrentState state, boolean training, long dropoutSeed) {
        int steps = in.steps();
        int batch = in.batch();
        int rows = steps * batch;
        LstmSpec spec = config.lstm();
        Pass pass = new Pass(in, training);
        Arena a = pass.arena;
        SplittableRandom random = new SplittableRandom(dropoutSeed);
        Tensor x; // [T*B, I]
        if (embedding != null) {
            if (in.tokens() == null) throw new IllegalArgumentException("input: expected token ids for this model, got dense features");
            x = embedding.forward(in.tokens(), a);
        } else {
            if (in.dense() == null) throw new IllegalArgumentException("input: expected dense features for this model, got token ids");
            if (in.dense().shape().dim(2) != config.inputFeatures()) {
                throw new IllegalArgumentException("dense: expected " + config.inputFeatures() + " features, got shape "
                        + in.dense().shape());
            }
            Tensor flat = in.dense().reshape(Shape.of(rows, config.inputFeatures()));
            if (inputLinear != null) {
                pass.linearIn = flat;
                x = inputLinear.forward(flat, a);
            } else {
                x = flat.copy(a);
            }
        }
        if (training) {
            pass.inMask = dropout.mask(x, random, a);
            Dropout.apply(x, pass.inMask);
        }
        LstmInput li = LstmInput.of(x.reshape(Shape.of(steps, batch, spec.inputSize()))).training(training)
                .withDropoutSeed(random.nextLong());
        if (in.lengths() != null) li = li.withLengths(in.lengths());
        if (state != null) li = li.withInitialState(state.h(), state.c());
        pass.lstmOut = lstm.forward(li, a); // in the pass's arena: one shared arena's close a pass, not two
        int width = config.headInputSize();
        Tensor y = pass.lstmOut.output().reshape(Shape.of(rows, width));
        Tensor feat;
        if (config.readout() == ModelConfig.Readout.EVERY) {
            feat = y.copy(a);
        } else {
            feat = Tensor.zeros(a, config.dtype(), batch, width);
            int[] lengths = li.effectiveLengths(spec);
            for (int b = 0; b < batch; b++) Tensors.copyRow(y, (long) (lengths[b] - 1) * batch + b, feat, b, width);
            pass.lastLengths = lengths;
        }
        if (training) {
            pass.outMask = dropout.mask(feat, random, a);
            Dropout.apply(feat, pass.outMask);
        }
        pass.headIn = feat;
        pass.logits = head.forward(feat, a);
        return pass;
    }

    /** Accumulates the gradients of a loss whose gradient for the logits is {@code gradLogits} ([N, C]). */
    public void backward(Pass pass, Tensor gradLogits) {
        if (!pass.training) {
            throw new IllegalStateException("backward: expected a pass run with training=true, got an inference pass");
        }
        ModelInput in = pass.input;
        int steps = in.steps();
        int batch = in.batch();
        int rows = steps * batch;
        int width = config.headInputSize();
        LstmSpec spec = config.lstm();
        try (Arena a = Arena.ofShared()) { // shared: large products are split over threads
            Tensor dFeat = Dropout.apply(head.backward(pass.headIn, gradLogits, a), pass.outMask);
            Tensor dY;
            if (config.readout() == ModelConfig.Readout.EVERY) {
                dY = dFeat;
            } else {
                dY = Tensor.zeros(a, config.dtype(), rows, width);
                for (int b = 0; b < batch; b++) {
                    Tensors.copyRow(dFeat, b, dY, (long) (pass.lastLengths[b] - 1) * batch + b, width);
                }
            }
            dY = dY.reshape(pass.lstmOut.output().shape());
            try (LstmGradients g = lstm.backward(pass.lstmOut, dY, null, null, a)) {
                for (Param p : params) {
                    if (p.name().startsWith("lstm.")) {
                        Tensors.addInto(p.grad(), g.params().get(p.name().substring(5)));
                    }
                }
                Tensor dX = Dropout.apply(g.input().reshape(Shape.of(rows, spec.inputSize())), pass.inMask);
                if (embedding != null) {
                    embedding.backward(in.tokens(), dX);
                } else if (inputLinear != null) {
                    inputLinear.backward(pass.linearIn, dX, a, false); // the data needs no gradient
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            lstm.close();
        } finally {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    private static Initializer uniform(double range) {
        return (p, random) -> {
            for (Tensor t : p.asMap().values()) fillUniform(t, range, random);
        };
    }

    private static void fillUniform(Tensor t, double range, SplittableRandom random) {
        for (long i = 0; i < t.elementCount(); i++) t.setFlat(i, random.nextDouble(-range, range));
    }

    /** What one forward call computed; close it to free its memory. */
    public static final class Pass implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final ModelInput input;
        private final boolean training;
        private Tensor linearIn;
        private Tensor inMask;
        private Tensor outMask;
        private LstmOutput lstmOut;
        private Tensor headIn;
        private int[] lastLengths;
        private Tensor logits;

        private Pass(ModelInput input, boolean training) {
            this.input = input;
            this.training = training;
        }

        /** [T*B, C] (row t*B + b) for EVERY readout, [B, C] for LAST. */
        public Tensor logits() { return logits; }

        /** A detached copy of the final LSTM state, for the next batch of truncated BPTT. */
        public RecurrentState finalState() {
            return new RecurrentState(lstmOut.hN(), lstmOut.cN());
        }

        @Override
        public synchronized void close() {
            try {
                if (lstmOut != null) lstmOut.close();
            } finally {
                if (arena.scope().isAlive()) arena.close();
            }
        }
    }
}
