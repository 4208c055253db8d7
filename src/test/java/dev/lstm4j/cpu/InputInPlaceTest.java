package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Inference reads an input that every thread may read (a shared arena's) where it is, instead of copying it into the
 * workspace first; a confined arena's input is still copied, since only its owner thread may read it. Each way a
 * step runs on 2 threads gets a confined input, then a shared one with other values, on the same workspace: the
 * second call's output must be that of its own values (computed alone, from a confined copy, on another backend),
 * not of the values the workspace's copy still holds. Heap and misaligned inputs are still copied.
 *
 * <p>Tolerance 1e-5 (1 + |y|): the same kernels on the same values, where the Vector API's exp and tanh (general
 * kernels) may differ in the last bit before and after C2 compiles them; the other input's output is O(0.1) off.
 */
class InputInPlaceTest {
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
        Shape shape = Shape.of(5, batch, spec.inputSize());
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(spec, 2);
             FastCpuBackend alone = new FastCpuBackend(spec, 2);
             Arena shared = Arena.ofShared();
             Arena confined = Arena.ofConfined()) {
            Tensor first = Fixtures.random(confined, DType.FLOAT32, shape, new SplittableRandom(1), 1);
            Tensor second = Fixtures.random(shared, DType.FLOAT32, shape, new SplittableRandom(2), 1);
            Tensor secondConfined = Tensor.zeros(confined, DType.FLOAT32, shape);
            secondConfined.copyFrom(second);
            float[] expected = output(alone, p, secondConfined);
            output(fast, p, first);
            assertClose(expected, output(fast, p, second), name + ", the shared input after a confined one");
        }
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
