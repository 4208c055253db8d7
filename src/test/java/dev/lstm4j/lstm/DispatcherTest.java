package dev.lstm4j.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cpu.ReferenceBackend;
import dev.lstm4j.tensor.DType;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The dispatcher's rules, with fake providers standing in for the hardware-dependent ones. */
class DispatcherTest {

    /** A provider whose availability and support are set by the test; it runs on the reference. */
    record Fake(BackendKind kind, LstmBackendProvider.Availability availability, boolean peepholes, boolean float64)
            implements LstmBackendProvider {
        @Override
        public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
            if (spec.peepholes() && !peepholes) return Optional.of("no peepholes");
            if (dtype == DType.FLOAT64 && !float64) return Optional.of("float32 only");
            return Optional.empty();
        }

        @Override
        public LstmBackend create(LstmSpec spec, DType dtype) {
            return new ReferenceBackend(spec, dtype);
        }
    }

    private static final LstmBackendProvider.Availability YES = LstmBackendProvider.Availability.yes();
    private static final LstmBackendProvider.Availability NO_GPU = LstmBackendProvider.Availability.noHardware("no GPU");

    private static Dispatcher gpuMachine() {
        return new Dispatcher(List.of(
                new Fake(BackendKind.REFERENCE, YES, true, true),
                new Fake(BackendKind.CUDNN, YES, false, false),
                new Fake(BackendKind.CPU, YES, true, false),
                new Fake(BackendKind.CUDA_KERNELS, YES, true, false),
                new Fake(BackendKind.HOST_KERNELS, YES, true, false)));
    }

    private static Dispatcher cpuMachine() {
        return new Dispatcher(List.of(
                new Fake(BackendKind.CUDNN, NO_GPU, false, false),
                new Fake(BackendKind.CUDA_KERNELS, NO_GPU, true, false),
                new Fake(BackendKind.CPU, YES, true, false),
                new Fake(BackendKind.REFERENCE, YES, true, true),
                new Fake(BackendKind.HOST_KERNELS, YES, true, false)));
    }

    private static final LstmSpec STANDARD = LstmSpec.builder(4, 8).build();
    private static final LstmSpec PEEPHOLE = LstmSpec.builder(4, 8).peepholes(true).build();

    @Test
    void autoFollowsDesignRules() {
        assertEquals(BackendKind.CUDNN, gpuMachine().chooseAuto(STANDARD, DType.FLOAT32).choice().kind());
        Dispatcher.Selection peep = gpuMachine().chooseAuto(PEEPHOLE, DType.FLOAT32);
        assertEquals(BackendKind.CUDA_KERNELS, peep.choice().kind());
        assertEquals(List.of("cudnn not used: no peepholes"), peep.choice().passedOver());
        assertEquals(BackendKind.CPU, cpuMachine().chooseAuto(PEEPHOLE, DType.FLOAT32).choice().kind());
        assertEquals(BackendKind.REFERENCE, cpuMachine().chooseAuto(STANDARD, DType.FLOAT64).choice().kind());
    }

    @Test
    void autoNeverPicksTheHostKernels() {
        Dispatcher onlyHost = new Dispatcher(List.of(
                new Fake(BackendKind.HOST_KERNELS, YES, true, true), new Fake(BackendKind.REFERENCE, YES, true, true)));
        assertEquals(BackendKind.REFERENCE, onlyHost.chooseAuto(STANDARD, DType.FLOAT32).choice().kind());
    }

    @Test
    void choiceRecordsWhatWasPassedOverAndWhy() {
        BackendChoice c = cpuMachine().chooseAuto(STANDARD, DType.FLOAT64).choice();
        assertEquals(List.of("cudnn not used: no GPU", "kernels not used: no GPU", "cpu not used: float32 only"),
                c.passedOver());
        assertTrue(c.toString().startsWith("reference (auto)"), c.toString());
    }

    @Test
    void forcedBackendThatCannotRunTheSpecIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gpuMachine().choose(BackendKind.CUDNN, PEEPHOLE, DType.FLOAT32));
        assertTrue(e.getMessage().contains("cudnn") && e.getMessage().contains("no peepholes"), e.getMessage());
        IllegalArgumentException absent = assertThrows(IllegalArgumentException.class,
                () -> cpuMachine().choose(BackendKind.CUDNN, STANDARD, DType.FLOAT32));
        assertTrue(absent.getMessage().contains("unavailable: no GPU"), absent.getMessage());
    }

    @Test
    void theRealClassPathHasTheReference() {
        Dispatcher d = Dispatcher.discover();
        assertTrue(d.provider(BackendKind.REFERENCE).isPresent());
        try (Lstm lstm = Lstm.builder(STANDARD).dtype(DType.FLOAT64).build()) {
            assertEquals(lstm.backendChoice().kind(), d.chooseAuto(STANDARD, DType.FLOAT64).choice().kind());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.builder(STANDARD).backend("tpu").build());
        assertTrue(e.getMessage().contains("backend") && e.getMessage().contains("'tpu'"), e.getMessage());
    }
}
