package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import org.junit.jupiter.api.Test;

/** LstmParams.freeze: read-only from then on, values kept, idempotent. */
class FreezeTest {
    private static final LstmSpec SPEC = LstmSpec.builder(3, 4).peepholes(true).build();

    @Test
    void frozenParametersKeepTheirValuesAndRefuseWrites() {
        try (LstmParams p = LstmParams.initialized(SPEC, DType.FLOAT32, Initializer.pytorchUniform(), 2)) {
            float[] before = p.weightHh(0, 0).toFloatArray();
            assertFalse(p.isFrozen());
            assertSame(p, p.freeze());
            assertTrue(p.isFrozen());
            assertEquals(before.length, p.weightHh(0, 0).toFloatArray().length);
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(p.weightHh(0, 0).toFloatArray()));
            for (String name : p.names()) {
                IllegalArgumentException write = assertThrows(IllegalArgumentException.class,
                        () -> p.get(name).setFlat(0, 1.0), name + " is read-only");
                assertTrue(write.getMessage().contains("read-only"), write.getMessage());
                assertTrue(p.asMap().get(name).segment().isReadOnly(), name);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> p.copyFrom(LstmParams.zeros(SPEC, DType.FLOAT32)));
            assertTrue(e.getMessage().startsWith("params: expected parameters that are not frozen"), e.getMessage());
        }
    }

    @Test
    void freezingTwiceChangesNothingAndCopiesAreNotFrozen() {
        try (LstmParams p = LstmParams.initialized(SPEC, DType.FLOAT32, Initializer.pytorchUniform(), 2)) {
            p.freeze();
            var tensors = p.asMap();
            p.freeze();
            assertSame(tensors, p.asMap());
            try (LstmParams copy = p.to(DType.FLOAT64)) {
                assertFalse(copy.isFrozen());
                copy.weightIh(0, 0).setFlat(0, 0.5);
                assertEquals(0.5, copy.weightIh(0, 0).getFlat(0));
            }
        }
    }
}
