package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    /**
     * What a call cannot use is refused by name on every backend that runs here, before any of it is read: a closed
     * layer, parameters that are closed or of another spec or dtype (given to a backend directly: read with the
     * backend's sizes they had given wrong values or an index out of bounds), and a forward output closed before its
     * backward (the reference had run it from its saved state, the kernels' host build failed in the FFM API).
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "kernels-host"})
    void whatACallCannotUseIsRefusedByName(String kind) {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        try (Arena arena = Arena.ofConfined();
             LstmBackend backend = Dispatcher.discover().provider(BackendKind.parse(kind)).orElseThrow()
                     .create(spec, DType.FLOAT32);
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32);
             LstmParams wider = LstmParams.zeros(LstmSpec.builder(3, 40).build(), DType.FLOAT32);
             LstmParams p64 = LstmParams.zeros(spec, DType.FLOAT64)) {
            LstmInput x = LstmInput.of(Tensor.zeros(arena, DType.FLOAT32, 5, 2, 3));
            assertEquals("params: expected weight_ih_l0 of shape [16, 3] (" + spec + "), got [160, 3] (" + wider.spec()
                    + ")",
                    assertThrows(IllegalArgumentException.class, () -> backend.forward(wider, x)).getMessage());
            assertEquals("params: expected dtype float32, got float64",
                    assertThrows(IllegalArgumentException.class, () -> backend.forward(p64, x)).getMessage());

            LstmOutput y = backend.forward(p, x.training(true));
            y.close();
            assertEquals("forward output: expected an open output, got one already closed (backward needs it open: "
                    + "close it after the backward call)", assertThrows(IllegalStateException.class,
                    () -> backend.backward(p, y, null, null, null)).getMessage());

            LstmParams closed = LstmParams.zeros(spec, DType.FLOAT32);
            closed.close();
            assertEquals("params: expected open parameters, got closed ones",
                    assertThrows(IllegalArgumentException.class, () -> backend.forward(closed, x)).getMessage());
            try (LstmOutput ok = backend.forward(p, x)) {
                assertEquals(0.0, ok.hN().getFlat(0), "the backend after the refusals");
            }
        }
        Lstm lstm = Lstm.builder(spec).backend(kind).build();
        lstm.close();
        try (Arena arena = Arena.ofConfined()) {
            assertEquals("lstm: expected an open layer, got one already closed", assertThrows(
                    IllegalStateException.class,
                    () -> lstm.forward(Tensor.zeros(arena, DType.FLOAT32, 5, 2, 3))).getMessage());
        }
    }

    @Test
    void theBuilderRefusesParametersOfAnotherDtypeThanTheOneItWasGiven() {
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        try (LstmParams p32 = LstmParams.zeros(spec, DType.FLOAT32)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> Lstm.builder(spec).dtype(DType.FLOAT64).params(p32).backend("reference").build()),
                    "params: expected dtype float64 (set with dtype()), got float32");
        }
        LstmParams p64 = LstmParams.zeros(spec, DType.FLOAT64);
        try (Lstm lstm = Lstm.builder(spec).params(p64).backend("reference").build()) {
            assertEquals(DType.FLOAT64, lstm.dtype(), "no dtype() given: the parameters' sets the layer's");
        }
    }

    @Test
    void aNullInputIsNamed() {
        try (Lstm lstm = Lstm.builder(LstmSpec.builder(3, 4).build()).backend("reference").build()) {
            assertEquals("input", assertThrows(NullPointerException.class,
                    () -> lstm.forward((LstmInput) null)).getMessage());
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
