package dev.lstm4j.cuda.cudnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class PaddingTest {
    @Test
    void zeroesStepsPastEachLengthInBothLayouts() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor tm = Tensor.zeros(arena, DType.FLOAT32, 3, 2, 2); // [T=3, B=2, X=2]
            for (long i = 0; i < 12; i++) tm.setFlat(i, i + 1);
            Padding.zero(tm, new int[] {1, 3}, false);
            assertArrayEquals(new double[] {1, 2, 3, 4, 0, 0, 7, 8, 0, 0, 11, 12}, tm.toDoubleArray());
            Tensor bf = Tensor.zeros(arena, DType.FLOAT64, 2, 3, 2); // [B=2, T=3, X=2]
            for (long i = 0; i < 12; i++) bf.setFlat(i, i + 1);
            Padding.zero(bf, new int[] {2, 1}, true);
            assertArrayEquals(new double[] {1, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 0}, bf.toDoubleArray());
        }
    }
}
