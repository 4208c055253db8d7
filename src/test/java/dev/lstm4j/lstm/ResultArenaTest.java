package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Results in the caller's arena ({@link Lstm#forward(LstmInput, Arena)}, {@link Lstm#backward(LstmOutput, Tensor,
 * Tensor, Tensor, Arena)}): a confined arena's outputs and gradients, which the backends' worker threads write
 * through views by address, hold the same bits as those in the calls' own shared arenas, and belong to that arena
 * (another thread cannot read them; closing the output or the gradients leaves them). Exact equality: the same
 * backend computes the same values whichever memory it writes.
 */
class ResultArenaTest {
    static final int INPUT = 6;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("reference", "reference", LstmSpec.builder(INPUT, 5).numLayers(2).build(), 3),
                Arguments.of("cpu, one thread's recurrence", "cpu", LstmSpec.builder(INPUT, 12).build(), 4),
                Arguments.of("cpu, a team per step", "cpu", LstmSpec.builder(INPUT, 70).build(), 5),
                Arguments.of("cpu, the layer pipeline, batch first", "cpu",
                        LstmSpec.builder(INPUT, 40).numLayers(2).batchFirst(true).build(), 5),
                Arguments.of("cpu, batch chunks, both directions", "cpu",
                        LstmSpec.builder(INPUT, 20).bidirectional(true).build(), 64),
                Arguments.of("kernels-host", "kernels-host",
                        LstmSpec.builder(INPUT, 12).numLayers(2).peepholes(true).build(), 5));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void confinedResultsMatchTheDefaultAndBelongToTheCallersArena(String name, String backend, LstmSpec spec,
                                                                  int batch) throws Exception {
        try (Lstm lstm = Lstm.builder(spec).backend(backend).seed(3).build(); Arena inputs = Arena.ofShared()) {
            long steps = 7;
            Shape shape = spec.batchFirst() ? Shape.of(batch, steps, INPUT) : Shape.of(steps, batch, INPUT);
            LstmInput in = LstmInput.of(random(inputs, shape, 1)).training(true);
            Tensor gradOutput = random(inputs, Shape.of(steps, batch, spec.numDirections() * spec.outputSize()), 2);
            if (spec.batchFirst()) {
                gradOutput = gradOutput.reshape(Shape.of(batch, steps, spec.numDirections() * spec.outputSize()));
            }
            float[] wantY;
            float[] wantHn;
            float[] wantCn;
            float[] wantDx;
            float[] wantDw;
            try (LstmOutput y = lstm.forward(in); LstmGradients g = lstm.backward(y, gradOutput)) {
                wantY = y.output().toFloatArray();
                wantHn = y.hN().toFloatArray();
                wantCn = y.cN().toFloatArray();
                wantDx = g.input().toFloatArray();
                wantDw = g.params().get("weight_hh_l0").toFloatArray();
                y.close();
                g.close();
                assertFalse(y.output().segment().scope().isAlive(), "the call's own arena closes with the output");
                assertFalse(g.input().segment().scope().isAlive(), "and with the gradients");
                assertFalse(g.params().get("weight_hh_l0").segment().scope().isAlive(), "parameter gradients too");
            }

            try (Arena results = Arena.ofConfined()) {
                LstmOutput y = lstm.forward(in, results);
                Tensor output = y.output();
                assertArrayEquals(wantY, output.toFloatArray(), "output");
                assertArrayEquals(wantHn, y.hN().toFloatArray(), "h_n");
                assertArrayEquals(wantCn, y.cN().toFloatArray(), "c_n");
                LstmGradients g = lstm.backward(y, gradOutput, null, null, results);
                Tensor dW = g.params().get("weight_hh_l0");
                assertArrayEquals(wantDx, g.input().toFloatArray(), "dx");
                assertArrayEquals(wantDw, dW.toFloatArray(), "dW_hh");
                for (Tensor t : new Tensor[] {output, g.input(), dW}) {
                    ExecutionException other = assertThrows(ExecutionException.class,
                            () -> CompletableFuture.supplyAsync(() -> t.getFlat(0)).get());
                    assertTrue(other.getCause() instanceof WrongThreadException, "confined to the caller: " + other);
                }

                y.close();
                g.close();
                assertTrue(output.segment().scope().isAlive(), "the caller's arena keeps them after the output closes");
                assertArrayEquals(wantY, output.toFloatArray(), "output after the output closed");
                assertArrayEquals(wantDw, dW.toFloatArray(), "dW_hh after the gradients closed");
            }
        }
    }

    @Test
    void aClosedArenaIsRefusedByName() {
        LstmSpec spec = LstmSpec.builder(INPUT, 4).build();
        try (Lstm lstm = Lstm.builder(spec).backend("cpu").build(); Arena inputs = Arena.ofShared()) {
            LstmInput in = LstmInput.of(random(inputs, Shape.of(3, 2, INPUT), 1));
            Arena closed = Arena.ofConfined();
            closed.close();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(in, closed));
            assertTrue(e.getMessage().startsWith("results: expected an open arena"), e.getMessage());
        }
    }

    @Test
    void anotherThreadsConfinedArenaIsRefusedByNameAndTheLayerStillWorks() throws Exception {
        LstmSpec spec = LstmSpec.builder(INPUT, 4).build();
        try (Lstm lstm = Lstm.builder(spec).backend("cpu").build(); Arena inputs = Arena.ofShared()) {
            LstmInput in = LstmInput.of(random(inputs, Shape.of(3, 2, INPUT), 1));
            Arena foreign = CompletableFuture.supplyAsync(Arena::ofConfined).get();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(in, foreign));
            assertTrue(e.getMessage().startsWith("results: expected an arena the calling thread may allocate from"),
                    e.getMessage());
            try (LstmOutput y = lstm.forward(in)) {
                assertTrue(Float.isFinite(y.output().toFloatArray()[0]), "the next call runs");
            }
        }
    }

    private static Tensor random(Arena arena, Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) shape.elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return Tensor.of(arena, shape, v);
    }
}
