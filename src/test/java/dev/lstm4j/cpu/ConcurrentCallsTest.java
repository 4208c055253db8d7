package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One {@link Lstm} called from several threads at once, as a service's request threads call the model they share:
 * 40 training calls (forward, then backward) from 4 threads on 6 inputs of different lengths, each result held to
 * the same input's result computed alone first. On every way the fast backend runs a step (one thread's
 * recurrence, a per-step team, the layer pipeline, batch chunks, frozen parameters packed once), on the
 * reference, and on the GPU kernels' host build (live parameters, and frozen ones whose copies all calls share).
 *
 * <p>Tolerance 1e-5 (outputs below 0.4, gradients below 6 here): the answers alone ran first, partly before C2
 * compiled the kernels, and the Vector API's exp may differ in the last bits before and after; two calls sharing a
 * buffer, or one call reading another's workspace, are O(0.1) off. Observed in three runs: the same bits.
 */
class ConcurrentCallsTest {
    static final int INPUT = 8;
    static final int REQUESTS = 6;
    static final float TOL = 1e-5f;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("cpu, one thread's recurrence", "cpu", LstmSpec.builder(INPUT, 12).build(), 5, false),
                Arguments.of("cpu, a team per step", "cpu", LstmSpec.builder(INPUT, 70).build(), 5, false),
                Arguments.of("cpu, the layer pipeline", "cpu", LstmSpec.builder(INPUT, 40).numLayers(2).build(), 5,
                        false),
                Arguments.of("cpu, batch chunks, both directions", "cpu",
                        LstmSpec.builder(INPUT, 20).bidirectional(true).build(), 64, false),
                Arguments.of("cpu, frozen parameters", "cpu", LstmSpec.builder(INPUT, 70).build(), 5, true),
                Arguments.of("reference", "reference", LstmSpec.builder(INPUT, 12).numLayers(2).build(), 5, false),
                // the GPU kernels' orchestration on their host build: a workspace per call, frozen copies shared
                Arguments.of("kernels-host", "kernels-host",
                        LstmSpec.builder(INPUT, 12).numLayers(2).peepholes(true).build(), 5, false),
                Arguments.of("kernels-host, frozen parameters uploaded once", "kernels-host",
                        LstmSpec.builder(INPUT, 12).numLayers(2).peepholes(true).build(), 5, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void callsFromSeveralThreadsGetTheirOwnResults(String name, String backend, LstmSpec spec, int batch,
                                                   boolean frozen) throws Exception {
        LstmParams params = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
        if (frozen) params.freeze();
        try (Lstm lstm = Lstm.builder(spec).backend(backend).params(params).build();
             Arena arena = Arena.ofShared()) {
            Tensor[] inputs = new Tensor[REQUESTS];                 // [3 + q, B, I]
            float[][] outputs = new float[REQUESTS][];
            float[][] gradients = new float[REQUESTS][];
            for (int q = 0; q < REQUESTS; q++) {
                SplittableRandom r = new SplittableRandom(q);
                float[] v = new float[(3 + q) * batch * INPUT];
                for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
                inputs[q] = Tensor.of(arena, Shape.of(3 + q, batch, INPUT), v);
                try (LstmOutput y = lstm.forward(LstmInput.of(inputs[q]).training(true));
                     LstmGradients g = lstm.backward(y, y.output())) {
                    outputs[q] = floats(y.output());
                    gradients[q] = floats(g.params().get("weight_hh_l0"));
                }
            }
            ExecutorService requests = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> calls = new ArrayList<>();
                for (int call = 0; call < 40; call++) {
                    int q = call % REQUESTS;
                    calls.add(requests.submit(() -> {
                        try (LstmOutput y = lstm.forward(LstmInput.of(inputs[q]).training(true));
                             LstmGradients g = lstm.backward(y, y.output())) {
                            assertClose(name + ", input " + q + ": output", outputs[q], floats(y.output()));
                            assertClose(name + ", input " + q + ": d weight_hh_l0", gradients[q],
                                    floats(g.params().get("weight_hh_l0")));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : calls) f.get(120, TimeUnit.SECONDS);
            } finally {
                requests.shutdownNow();
                assertTrue(requests.awaitTermination(60, TimeUnit.SECONDS), "request threads did not end");
            }
        }
    }

    /**
     * Two request threads calling at once, round after round, find a workspace each instead of making one per
     * overlapping call: the backend keeps up to one idle workspace per core (at least 2). The calls start together
     * at a barrier and run 200 steps; with a single idle slot, as before, one call of each overlapping pair made
     * (and zeroed) a new workspace: 10 and 16 workspaces in two runs of this test (3 with 20 steps, whose calls
     * seldom overlapped).
     */
    @org.junit.jupiter.api.Test
    void concurrentCallsReuseTheirWorkspaces() throws Exception {
        LstmSpec spec = LstmSpec.builder(INPUT, 70).build();
        int rounds = 30;
        try (Arena arena = Arena.ofShared();
             LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3).freeze();
             FastCpuBackend fast = new FastCpuBackend(spec, 1)) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, Shape.of(200, 5, INPUT));
            SplittableRandom r = new SplittableRandom(9);
            for (long k = 0; k < x.elementCount(); k++) x.setFlat(k, r.nextDouble(-1, 1));
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            ExecutorService requests = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int k = 0; k < 2; k++) {
                    done.add(requests.submit(() -> {
                        for (int round = 0; round < rounds; round++) {
                            start.await(30, TimeUnit.SECONDS);
                            try (LstmOutput y = fast.forward(p, LstmInput.of(x))) {
                                assertEquals(200 * 5 * 70, y.output().elementCount());
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(120, TimeUnit.SECONDS);
            } finally {
                requests.shutdownNow();
            }
            assertTrue(fast.workspacesCreated() <= 2, "workspaces made for 2 request threads over " + rounds
                    + " rounds: " + fast.workspacesCreated());
        }
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": size");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOL, what + " at " + i);
        }
    }

    private static float[] floats(Tensor t) {
        float[] v = new float[(int) t.elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = (float) t.getFlat(i);
        return v;
    }
}
