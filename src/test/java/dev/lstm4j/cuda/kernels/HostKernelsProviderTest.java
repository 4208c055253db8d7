package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import org.junit.jupiter.api.Test;

class HostKernelsProviderTest {
    private final LstmSpec peepholes = LstmSpec.builder(3, 4).peepholes(true).build();

    @Test
    void isRegisteredAndAvailableWhereTheHostLibraryLoads() {
        Dispatcher d = Dispatcher.discover();
        assertTrue(d.provider(BackendKind.HOST_KERNELS).isPresent(), "registered in META-INF/services");
        assertTrue(d.provider(BackendKind.HOST_KERNELS).get().availability().available());
    }

    @Test
    void autoNeverPicksIt() {
        Dispatcher.Selection s = Dispatcher.discover().chooseAuto(peepholes, DType.FLOAT32);
        assertNotEquals(BackendKind.HOST_KERNELS, s.choice().kind());
    }

    @Test
    void forcedItRunsAndSaysSo() {
        try (Lstm lstm = Lstm.builder(peepholes).backend("kernels-host").build()) {
            assertEquals(BackendKind.HOST_KERNELS, lstm.backendChoice().kind());
            assertEquals("requested by the user", lstm.backendChoice().reason());
        }
    }

    @Test
    void float64IsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.builder(peepholes).dtype(DType.FLOAT64).backend("kernels-host").build());
        assertTrue(e.getMessage().contains("float32 only"), e.getMessage());
    }
}
