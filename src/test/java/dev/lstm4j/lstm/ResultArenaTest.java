package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.ResultArenaCheck;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Results in the caller's arena on the backends that run here ({@link ResultArenaCheck}: the same values as in the
 * calls' own arenas within 1e-5, the tolerance for the Vector API's exp before and after C2 compiles it; a worker
 * writing the caller's confined memory fails it), and the arenas a call refuses.
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
        try (Lstm lstm = Lstm.builder(spec).backend(backend).seed(3).build()) {
            ResultArenaCheck.assertCallerArenaResultsMatchOwn(lstm, batch, 1e-5f);
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

    /**
     * The cpu backend's results are not zero-filled ({@link ResultArena#uninitialized}: malloc'd memory attached to
     * the results' arena): they live as long as that arena, and the arena's close frees them; a read after it throws.
     */
    @Test
    void uninitializedResultsLiveAndDieWithTheirArena() {
        LstmSpec spec = LstmSpec.builder(INPUT, 4).build();
        try (Lstm lstm = Lstm.builder(spec).backend("cpu").build(); Arena inputs = Arena.ofShared()) {
            LstmInput in = LstmInput.of(random(inputs, Shape.of(3, 2, INPUT), 1));
            Tensor output;
            try (Arena results = Arena.ofConfined(); LstmOutput y = lstm.forward(in, results)) {
                output = y.output();
                float[] values = output.toFloatArray();
                for (float v : values) assertTrue(Float.isFinite(v), "an element left unwritten: " + v);
            }
            assertThrows(IllegalStateException.class, () -> output.getFlat(0));
        }
    }

    private static Tensor random(Arena arena, Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) shape.elementCount()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return Tensor.of(arena, shape, v);
    }
}
