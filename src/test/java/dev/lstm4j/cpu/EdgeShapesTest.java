package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The shapes users report crashes at: batch 1, length 1, odd batch sizes, very long sequences. */
class EdgeShapesTest {

    @Test
    void batchOneLengthOne() {
        LstmSpec spec = LstmSpec.builder(1, 1).bidirectional(true).build();
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT32, 1)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT32, new SplittableRandom(1), 1, 1, 1);
            try (LstmOutput y = lstm.forward(LstmInput.of(x).training(true));
                 LstmGradients g = lstm.backward(y, y.output())) {
                assertEquals(Shape.of(1, 1, 2), y.output().shape());
                // with one step, both directions' outputs are their final states
                assertEquals(y.hN().get(0, 0, 0), y.output().get(0, 0, 0), 0.0);
                assertEquals(y.hN().get(1, 0, 0), y.output().get(0, 0, 1), 0.0);
                assertEquals(Shape.of(1, 1, 1), g.input().shape());
            }
        }
    }

    @Test
    void oddBatchSizeWithMixedLengths() {
        LstmSpec spec = LstmSpec.builder(3, 5).numLayers(2).build();
        int[] lengths = {7, 1, 3, 7, 2, 5, 6};
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT64, 2)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT64, new SplittableRandom(2), 7, 7, 3);
            try (LstmOutput y = lstm.forward(LstmInput.of(x).withLengths(lengths))) {
                for (int b = 0; b < lengths.length; b++) {
                    for (int t = 0; t < 7; t++) {
                        boolean padded = t >= lengths[b];
                        double norm = 0;
                        for (int k = 0; k < 5; k++) norm += Math.abs(y.output().get(t, b, k));
                        assertTrue(padded == (norm == 0.0), "t=" + t + " b=" + b + " padded=" + padded + " |y|=" + norm);
                    }
                    // the final state of the top layer is the output at the last valid step
                    for (int k = 0; k < 5; k++) {
                        assertEquals(y.output().get(lengths[b] - 1, b, k), y.hN().get(1, b, k), 0.0);
                    }
                }
            }
        }
    }

    /** A 5,000-step sequence runs forward and backward: no recursion, no stack growth with T. */
    @Test
    void veryLongSequence() {
        LstmSpec spec = LstmSpec.builder(2, 3).build();
        try (Arena arena = Arena.ofConfined(); Lstm lstm = Fixtures.reference(spec, DType.FLOAT32, 3)) {
            Tensor x = Fixtures.random(arena, DType.FLOAT32, new SplittableRandom(3), 5000, 1, 2);
            try (LstmOutput y = lstm.forward(LstmInput.of(x).training(true));
                 LstmGradients g = lstm.backward(y, y.output())) {
                for (double v : y.output().toDoubleArray()) assertTrue(Double.isFinite(v) && Math.abs(v) < 1);
                for (double v : g.input().toDoubleArray()) assertTrue(Double.isFinite(v));
            }
        }
    }
}
