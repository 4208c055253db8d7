package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Bad arguments fail before any backend runs, with a message that names the argument, the expectation and the value. */
class ValidationTest {

    private static void assertMessage(IllegalArgumentException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void specBuilderNamesTheBadField() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LstmSpec.builder(0, 4).build()),
                "inputSize", "> 0", "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LstmSpec.builder(3, 4).projSize(4).build()),
                "projSize", "got 4");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LstmSpec.builder(3, 4).dropout(1.0).build()),
                "dropout", "[0, 1)", "1.0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LstmSpec.builder(3, 4).clip(-1).build()),
                "clip", "-1");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LstmSpec.builder(3, 4).numLayers(0).build()),
                "numLayers");
    }

    @Test
    void inputShapeDtypeLengthsAndStatesAreChecked() {
        LstmSpec spec = LstmSpec.builder(3, 4).numLayers(2).build();
        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(DType.FLOAT64).backend("reference").build()) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(arena, DType.FLOAT64, 5, 2, 4))), "input", "I=3", "[5, 2, 4]");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(arena, DType.FLOAT64, 5, 3))), "input", "rank 3");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(arena, DType.FLOAT32, 5, 2, 3))), "input", "float64", "float32");
            Tensor x = Tensor.zeros(arena, DType.FLOAT64, 5, 2, 3);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(LstmInput.of(x).withLengths(5, 6))), "lengths[1]", "1..5", "6");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(LstmInput.of(x).withLengths(0, 5))), "lengths[0]", "got 0");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(LstmInput.of(x).withLengths(5))), "lengths", "2 entries", "got 1");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(LstmInput.of(x).withInitialState(Tensor.zeros(arena, DType.FLOAT64, 2, 2, 4), null))),
                    "h0 and c0", "only h0");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(LstmInput.of(x).withInitialState(Tensor.zeros(arena, DType.FLOAT64, 1, 2, 4),
                            Tensor.zeros(arena, DType.FLOAT64, 2, 2, 4)))), "h0", "[2, 2, 4]", "[1, 2, 4]");
        }
    }

    @Test
    void backwardChecksItsArgumentsAndNeedsATrainingForward() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(DType.FLOAT64).backend("reference").build()) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT64, 5, 2, 3);
            try (LstmOutput inference = lstm.forward(x)) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> lstm.backward(inference, inference.output()));
                assertTrue(e.getMessage().contains("training"), e.getMessage());
            }
            try (LstmOutput y = lstm.forward(LstmInput.of(x).training(true))) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> lstm.backward(y, Tensor.zeros(arena, DType.FLOAT64, 5, 2, 3))), "gradOutput", "[5, 2, 4]");
            }
        }
    }

    @Test
    void closingTwiceIsHarmless() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        Lstm lstm = Lstm.builder(spec).backend("reference").build();
        lstm.close();
        lstm.close();
        LstmParams p = LstmParams.zeros(spec, DType.FLOAT32);
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, () -> p.weightIh(0, 0).getFlat(0));
        assertEquals(4, spec.parameterNames().size());
    }
}
