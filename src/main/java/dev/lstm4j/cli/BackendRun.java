package dev.lstm4j.cli;

import dev.lstm4j.bench.JitWarmup;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One backend in one dtype on the loaded inputs: forward (and backward of the loss), timed, with every result
 * tensor kept under the name {@code forward} and {@code compare} show it by: {@code output}, {@code h_n},
 * {@code c_n}, then {@code grad:NAME} for each weight under the weight file's own names and for {@code input},
 * {@code h0}, {@code c0}.
 */
final class BackendRun implements AutoCloseable {
    static final String GRAD = "grad:";

    final String backend;
    final DType dtype;
    final String choice;
    final double forwardMs;  // median over the repeats
    final double backwardMs; // NaN without backward
    final JitWarmup.Result warmup;
    final Map<String, Tensor> tensors;
    private final Arena arena;

    private BackendRun(String backend, DType dtype, String choice, double forwardMs, double backwardMs,
                       JitWarmup.Result warmup, Map<String, Tensor> tensors, Arena arena) {
        this.backend = backend;
        this.dtype = dtype;
        this.choice = choice;
        this.forwardMs = forwardMs;
        this.backwardMs = backwardMs;
        this.warmup = warmup;
        this.tensors = tensors;
        this.arena = arena;
    }

    String label() {
        return backend + ":" + dtype.label();
    }

    /** @param warmup untimed runs first, so the timed ones measure compiled code rather than JIT warm-up */
    static BackendRun run(RunInputs in, String backend, DType dtype, boolean backward, WarmupPolicy warmup,
                          int repeats) {
        Arena arena = Arena.ofShared();
        try (Lstm lstm = Lstm.builder(in.spec).backend(backend).params(in.weights.params().to(dtype)).build();
             Arena work = Arena.ofConfined()) {
            LstmInput input = in.inputFor(dtype, work, backward);
            Tensor g = backward ? in.gradOutputFor(dtype, work) : null;
            double[] fwd = new double[repeats];
            double[] bwd = new double[repeats];
            Map<String, Tensor> kept = new LinkedHashMap<>();
            JitWarmup.Result warmedUp = warmup.warmUp(() -> {
                try (LstmOutput out = lstm.forward(input)) {
                    if (backward) {
                        lstm.backward(out, g).close();
                    }
                }
            });
            for (int r = 0; r < repeats; r++) {
                boolean last = r == repeats - 1;
                long t0 = System.nanoTime();
                try (LstmOutput out = lstm.forward(input)) {
                    fwd[r] = (System.nanoTime() - t0) / 1e6;
                    if (last) {
                        kept.put("output", out.output().copy(arena));
                        kept.put("h_n", out.hN().copy(arena));
                        kept.put("c_n", out.cN().copy(arena));
                    }
                    if (backward) {
                        long t1 = System.nanoTime();
                        try (LstmGradients grads = lstm.backward(out, g)) {
                            bwd[r] = (System.nanoTime() - t1) / 1e6;
                            if (last) {
                                for (Map.Entry<String, Tensor> e : in.weights.exportGradients(grads.params(), arena).entrySet()) {
                                    kept.put(GRAD + e.getKey(), e.getValue());
                                }
                                kept.put(GRAD + "input", grads.input().copy(arena));
                                kept.put(GRAD + "h0", grads.h0().copy(arena));
                                kept.put(GRAD + "c0", grads.c0().copy(arena));
                            }
                        }
                    }
                }
            }
            return new BackendRun(backend, dtype, lstm.backendChoice().toString(), median(fwd),
                    backward ? median(bwd) : Double.NaN, warmedUp, kept, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
