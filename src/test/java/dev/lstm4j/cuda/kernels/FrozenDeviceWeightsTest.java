package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.FrozenParamsCheck;
import java.lang.foreign.Arena;
import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;

/**
 * The kernel backend keeps the device copies of frozen parameters across calls ({@link FrozenDeviceWeights}), run
 * here on the host build of the kernels: the same orchestration and cache as on a GPU, with host memory as the
 * device's.
 */
class FrozenDeviceWeightsTest {
    private final LstmSpec spec = LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).peepholes(true).build();

    private KernelBackend backend() {
        return new KernelBackend(BackendKind.HOST_KERNELS, spec, new HostDeviceOps());
    }

    /**
     * Exact: frozen or not, the same float32 values reach the same host kernels, which sum in a fixed order, so a
     * kept copy must give the very bits of a fresh upload.
     */
    @Test
    void frozenCallsGiveWhatTheSameValuesUnfrozenGive() {
        try (KernelBackend b = backend()) {
            FrozenParamsCheck.assertFrozenCallsMatchUnfrozen(b, spec, 4, 3, 0f);
            assertEquals(2, b.frozenWeights().uploads(), "each frozen set uploaded once over 3 rounds of calls");
        }
    }

    @Test
    void parametersThatMayChangeAreUploadedPerCallNotKept() {
        try (KernelBackend b = backend();
             Arena arena = Arena.ofConfined();
             LstmParams live = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5)) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, Shape.of(4, 3, spec.inputSize()));
            try (LstmOutput y = b.forward(live, LstmInput.of(x))) {
                assertEquals(0, b.frozenWeights().uploads());
            }
            assertThrows(IllegalArgumentException.class, () -> b.frozenWeights().get(live));
        }
    }

    /**
     * A frozen set that nothing references any more gives its device memory back at the next lookup. Bounded wait
     * for the collector to clear the weak reference (System.gc() is a request): 10 s, where a full collection takes
     * milliseconds.
     */
    @Test
    void copiesOfUnreachableParametersAreGivenBack() throws InterruptedException {
        try (KernelBackend b = backend(); Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, Shape.of(4, 3, spec.inputSize()));
            WeakReference<LstmParams> gone = callOnce(b, x);
            assertEquals(1, b.frozenWeights().held());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (gone.get() != null && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(10);
            }
            assertTrue(gone.get() == null, "the collector did not clear the parameters within 10 s");
            while (b.frozenWeights().held() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10); // the collector enqueues cleared references on a thread of its own
            }
            assertEquals(0, b.frozenWeights().held(), "copies of unreachable parameters given back");
        }
    }

    private WeakReference<LstmParams> callOnce(KernelBackend b, Tensor x) {
        try (LstmParams frozen = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5)
                .freeze(); LstmOutput y = b.forward(frozen, LstmInput.of(x))) {
            return new WeakReference<>(frozen);
        }
    }

    @Test
    void closingTheBackendGivesEveryCopyBack() {
        KernelBackend b = backend();
        try (Arena arena = Arena.ofConfined();
             LstmParams frozen = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5)
                     .freeze()) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, Shape.of(4, 3, spec.inputSize()));
            b.forward(frozen, LstmInput.of(x)).close();
            assertEquals(1, b.frozenWeights().held());
            b.close();
            assertEquals(0, b.frozenWeights().held());
            assertThrows(IllegalStateException.class, () -> b.frozenWeights().get(frozen));
        }
    }
}
