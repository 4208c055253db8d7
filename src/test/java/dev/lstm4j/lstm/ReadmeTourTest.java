package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** The README's tour, verbatim, so the documentation cannot drift from the API. */
class ReadmeTourTest {
    @Test
    void tourCompilesAndRuns() {
        LstmSpec spec = LstmSpec.builder(/* inputSize */ 16, /* hiddenSize */ 32)
                .numLayers(2).bidirectional(true).peepholes(true)
                .build();                                   // validates every field

        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(DType.FLOAT64).seed(7).build()) {
            System.out.println(lstm.backendChoice());       // which backend runs it, and why

            Tensor x = Tensor.zeros(arena, DType.FLOAT64, 20, 8, 16);         // [T, B, I]
            LstmInput in = LstmInput.of(x).withLengths(20, 18, 5, 20, 1, 7, 20, 9).training(true);
            try (LstmOutput y = lstm.forward(in)) {                          // output [T, B, 2*32], h_n, c_n [4, B, 32]
                Tensor dy = Tensor.zeros(arena, DType.FLOAT64, y.output().shape());
                try (LstmGradients g = lstm.backward(y, dy)) {                // gradient of <output, dy>
                    Tensor dWih = g.params().get("weight_ih_l0");            // [4H, I], gate order i, f, g, o
                    Tensor dx = g.input();                                   // [T, B, I]
                    assertEquals(Shape.of(128, 16), dWih.shape());
                    assertEquals(x.shape(), dx.shape());
                    assertEquals(Shape.of(20, 8, 64), y.output().shape());
                    assertEquals(Shape.of(4, 8, 32), y.hN().shape());
                }
            }
        }
    }
}
