package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.ConfinedElsewhere;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Inference reads its input where it is, instead of copying it into the workspace first, when every thread may read
 * it (a shared arena's) or it is confined to the calling thread (the workers then read it through a view that lives
 * only as long as the call, during which its owner cannot close it). Each way a step runs on 2 threads gets one
 * input, then another with other values, on the same workspace (heap then shared, heap then confined): the second
 * call's output must be that of its own values (computed alone, from a heap copy, on another backend), not of the
 * values the workspace's copy from the first call still holds. Heap and misaligned inputs, training and
 * batch-first inputs are still copied ({@link FastCpuBackend#readsInputInPlace}).
 *
 * <p>Tolerance 1e-5 (1 + |y|): the same kernels on the same values, where the Vector API's exp and tanh (general
 * kernels) may differ in the last bit before and after C2 compiles them; the other input's output is O(0.1) off.
 */
class InputInPlaceTest {
    private static final Shape SHAPE = Shape.of(5, 4, 8);

    static Stream<Arguments> paths() {
        return Stream.of(
                Arguments.of("one recurrence on a team", LstmSpec.builder(8, 70).build(), 5),
                Arguments.of("the layer pipeline", LstmSpec.builder(8, 20).numLayers(2).peepholes(true).build(), 5),
                Arguments.of("batch chunks, fused", LstmSpec.builder(8, 20).build(), 64),
                Arguments.of("two directions, general kernels",
                        LstmSpec.builder(8, 20).bidirectional(true).cellClip(0.5).build(), 6),
                Arguments.of("one row", LstmSpec.builder(8, 20).numLayers(2).build(), 1));
    }

    /**
     * Inputs that are not read in place but copied, as before: heap memory (OpenBLAS takes only native memory) and
     * native memory not aligned for floats (the kernels' float reads need it).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void heapAndMisalignedInputsAreCopied(String name, LstmSpec spec, int batch) {
        Shape shape = Shape.of(5, batch, spec.inputSize());
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(spec, 2);
             Arena shared = Arena.ofShared()) {
            Tensor x = Fixtures.random(shared, DType.FLOAT32, shape, new SplittableRandom(2), 1);
            float[] expected = output(fast, p, x);
            Tensor heap = Tensor.wrap(MemorySegment.ofArray(x.toFloatArray()), DType.FLOAT32, shape);
            MemorySegment offByTwo = shared.allocate(x.byteSize() + 2, 8).asSlice(2, x.byteSize());
            MemorySegment.copy(x.segment(), 0, offByTwo, 0, x.byteSize());
            assertClose(expected, output(fast, p, heap), name + ", heap input");
            assertClose(expected, output(fast, p, Tensor.wrap(offByTwo, DType.FLOAT32, shape)),
                    name + ", misaligned input");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void aSharedInputIsReadInPlaceAndGivesItsOwnOutput(String name, LstmSpec spec, int batch) {
        try (Arena shared = Arena.ofShared()) {
            readInPlaceAfterACopy(name + ", the shared input after a heap one", spec, batch, shared);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void aConfinedInputIsReadInPlaceAndGivesItsOwnOutput(String name, LstmSpec spec, int batch) {
        try (Arena confined = Arena.ofConfined()) {
            readInPlaceAfterACopy(name + ", the confined input after a heap one", spec, batch, confined);
        }
    }

    /** A heap input (copied into the workspace), then one in the arena with other values (read in place). */
    private static void readInPlaceAfterACopy(String what, LstmSpec spec, int batch, Arena arena) {
        Shape shape = Shape.of(5, batch, spec.inputSize());
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(spec, 2);
             FastCpuBackend alone = new FastCpuBackend(spec, 2)) {
            Tensor first = Fixtures.random(arena, DType.FLOAT32, shape, new SplittableRandom(1), 1);
            Tensor second = Fixtures.random(arena, DType.FLOAT32, shape, new SplittableRandom(2), 1);
            assertTrue(FastCpuBackend.readsInputInPlace(second, false, false), what + ": expected it read in place");
            float[] expected = output(alone, p, heapCopy(second));
            output(fast, p, heapCopy(first));
            assertClose(expected, output(fast, p, second), what);
        }
    }

    @Test
    void theRuleForReadingInPlace() throws InterruptedException {
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            Tensor inShared = Tensor.zeros(shared, DType.FLOAT32, SHAPE);
            Tensor inConfined = Tensor.zeros(confined, DType.FLOAT32, SHAPE);
            assertTrue(FastCpuBackend.readsInputInPlace(inShared, false, false), "shared");
            assertTrue(FastCpuBackend.readsInputInPlace(inConfined, false, false), "confined to this thread");
            assertTrue(FastCpuBackend.readsInputInPlace(Tensor.zeros(Arena.global(), DType.FLOAT32, SHAPE), false,
                    false), "global");
            assertFalse(FastCpuBackend.readsInputInPlace(inShared, true, false), "training");
            assertFalse(FastCpuBackend.readsInputInPlace(inConfined, true, false), "training, confined");
            assertFalse(FastCpuBackend.readsInputInPlace(inShared, false, true), "batch-first");
            assertFalse(FastCpuBackend.readsInputInPlace(heapCopy(inShared), false, false), "heap");
            MemorySegment offByTwo = shared.allocate(inShared.byteSize() + 2, 8).asSlice(2, inShared.byteSize());
            assertFalse(FastCpuBackend.readsInputInPlace(Tensor.wrap(offByTwo, DType.FLOAT32, SHAPE), false, false),
                    "misaligned");
            ConfinedElsewhere.use(SHAPE, elsewhere -> assertFalse(
                    FastCpuBackend.readsInputInPlace(elsewhere, false, false), "confined to another thread"));
        }
    }

    private static Tensor heapCopy(Tensor x) {
        return Tensor.wrap(MemorySegment.ofArray(x.toFloatArray()), DType.FLOAT32, x.shape());
    }

    private static float[] output(FastCpuBackend backend, LstmParams p, Tensor x) {
        try (LstmOutput y = backend.forward(p, LstmInput.of(x))) {
            return y.output().toFloatArray();
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5f * (1 + Math.abs(expected[i])), what + ", output " + i);
        }
    }
}
