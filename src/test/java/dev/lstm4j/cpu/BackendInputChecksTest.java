package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.ConfinedElsewhere;
import java.lang.foreign.Arena;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backends that run here check the tensors they are handed themselves, as cuDNN's backend does, not only behind
 * {@code Lstm}: a float64 input, a wrong shape, a wrong gradient or a tensor the caller cannot read fails with the
 * argument named, where a backend called directly had read float64 bytes as floats (`cpu`, and the kernels' host
 * build, whose GPU build copies them to the device as they are) or failed inside (the reference).
 */
class BackendInputChecksTest {
    private final LstmSpec spec = LstmSpec.builder(3, 4).build();

    private LstmBackend backend(String kind) {
        return Dispatcher.discover().provider(BackendKind.parse(kind)).orElseThrow().create(spec, DType.FLOAT32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "kernels-host", "reference"})
    void aFloat64InputIsRefusedWithItsName(String kind) {
        try (LstmBackend b = backend(kind);
             Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32)) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT64, 2, 2, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.forward(p, LstmInput.of(x)));
            assertEquals("input: expected dtype float32 (the layer's), got float64", e.getMessage());
            Tensor wide = Tensor.zeros(arena, DType.FLOAT32, 2, 2, 5);
            e = assertThrows(IllegalArgumentException.class, () -> b.forward(p, LstmInput.of(wide)));
            assertEquals("input: expected last dimension I=3 in [T, B, I], got shape [2, 2, 5]", e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "kernels-host", "reference"})
    void aGradientOfTheWrongDtypeIsRefusedWithItsName(String kind) {
        try (LstmBackend b = backend(kind);
             Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32);
             LstmOutput y = b.forward(p, LstmInput.of(Tensor.zeros(arena, DType.FLOAT32, 2, 2, 3)).training(true))) {
            Tensor dy = Tensor.zeros(arena, DType.FLOAT64, 2, 2, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.backward(p, y, dy, null, null));
            assertEquals("gradOutput: expected dtype float32 (the layer's), got float64", e.getMessage());
        }
    }

    /**
     * A tensor whose arena is closed, or that is confined to another thread, is refused by name before any of it is
     * read (it had failed inside the backend with the FFM API's own exception, naming no argument); the backend stays
     * usable.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "kernels-host", "reference"})
    void tensorsTheCallerCannotReadAreRefusedWithTheirNames(String kind) throws InterruptedException {
        try (LstmBackend b = backend(kind);
             Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.zeros(spec, DType.FLOAT32)) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, 2, 2, 3);
            Arena closed = Arena.ofConfined();
            Tensor closedX = Tensor.zeros(closed, DType.FLOAT32, 2, 2, 3);
            Tensor closedH0 = Tensor.zeros(closed, DType.FLOAT32, 1, 2, 4);
            closed.close();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.forward(p, LstmInput.of(closedX)));
            assertEquals("input: expected a tensor whose arena is open, got one whose arena is closed", e.getMessage());
            Tensor c0 = Tensor.zeros(arena, DType.FLOAT32, 1, 2, 4);
            e = assertThrows(IllegalArgumentException.class,
                    () -> b.forward(p, LstmInput.of(x).withInitialState(closedH0, c0)));
            assertEquals("h0: expected a tensor whose arena is open, got one whose arena is closed", e.getMessage());

            try (LstmOutput y = b.forward(p, LstmInput.of(x).training(true))) {
                ConfinedElsewhere.use(Shape.of(2, 2, 4), dy -> assertEquals(
                        "gradOutput: expected a tensor the calling thread may read, got one confined to another thread",
                        assertThrows(IllegalArgumentException.class, () -> b.backward(p, y, dy, null, null))
                                .getMessage()));
            }
            try (LstmOutput y = b.forward(p, LstmInput.of(x))) {
                assertEquals(0.0, y.hN().getFlat(0), "the backend after the refusals");
            }
        }
    }
}
