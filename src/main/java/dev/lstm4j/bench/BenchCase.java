package dev.lstm4j.bench;

import dev.lstm4j.cpu.FastCpuProvider;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One (workload, backend, mode, threads) combination, set up once: the layer, its float32 parameters, a random input
 * and output gradient. {@link #step()} runs what is timed, and may be called from several threads at once (the
 * serving benchmark's request threads). Shared by the JMH suite and {@code lstm4j bench}.
 */
public final class BenchCase implements AutoCloseable {
    private final Workload workload;
    private final BackendKind backend;
    private final BenchMode mode;
    private final int threads;
    private final Arena arena = Arena.ofShared();
    private final Lstm lstm;
    private final LstmInput input;
    private final Tensor gradOutput;

    public BenchCase(Workload workload, BackendKind backend, BenchMode mode, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        this.workload = workload;
        this.backend = backend;
        this.mode = mode;
        this.threads = threads;
        try {
            this.lstm = Lstm.builder(workload.spec()).dtype(DType.FLOAT32).backend(backend)
                    .dispatcher(dispatcher(threads)).seed(1).build();
            if (mode == BenchMode.SERVING) {
                lstm.params().freeze();
            }
            SplittableRandom r = new SplittableRandom(2);
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, workload.seqLength(), workload.batch(), workload.inputSize());
            fill(x, r);
            this.input = LstmInput.of(x).training(mode == BenchMode.TRAINING);
            long width = (long) workload.hiddenSize() * (workload.bidirectional() ? 2 : 1);
            this.gradOutput = Tensor.zeros(arena, DType.FLOAT32, workload.seqLength(), workload.batch(), width);
            fill(gradOutput, r);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The providers on the class path, with the fast CPU provider set to {@code threads}. */
    static Dispatcher dispatcher(int threads) {
        List<LstmBackendProvider> providers = new ArrayList<>();
        for (LstmBackendProvider p : Dispatcher.discover().providers()) {
            providers.add(p.kind() == BackendKind.CPU ? new FastCpuProvider(threads) : p);
        }
        return new Dispatcher(providers);
    }

    /**
     * One timed step; returns a value that depends on the result, so that nothing is optimised away. The results
     * (and gradients) go in a confined arena of the step's own, as a thread that reads its own results would run it
     * (README, "Results' memory"); {@code forward(input)}'s shared arena would add its close's handshake.
     */
    public double step() {
        try (Arena results = Arena.ofConfined(); LstmOutput out = lstm.forward(input, results)) {
            if (mode != BenchMode.TRAINING) {
                return out.output().getFlat(0);
            }
            try (LstmGradients g = lstm.backward(out, gradOutput, null, null, results)) {
                return g.input().getFlat(0);
            }
        }
    }

    public Workload workload() { return workload; }
    public BackendKind backend() { return backend; }
    public BenchMode mode() { return mode; }
    public int threads() { return threads; }
    /** Whether the layer's parameters are frozen (serving). */
    public boolean frozen() { return lstm.params().isFrozen(); }

    @Override
    public void close() {
        try {
            lstm.close();
        } finally {
            arena.close();
        }
    }

    private static void fill(Tensor t, SplittableRandom r) {
        for (long k = 0; k < t.elementCount(); k++) {
            t.setFlat(k, r.nextDouble(-1, 1));
        }
    }
}
