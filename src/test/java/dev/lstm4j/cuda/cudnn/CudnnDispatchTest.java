package dev.lstm4j.cuda.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.lstm4j.cpu.ReferenceProvider;
import dev.lstm4j.cuda.CudaDriver;
import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmBackendProvider.Availability;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher's choice for a matrix of specs (DESIGN.md, "Dispatch"), with the cuDNN provider's availability faked
 * as "GPU present" where the machine has none, and the real provider where the answer is "no GPU".
 */
class CudnnDispatchTest {

    /** Stands in for the own-kernels backend: present, runs every variant. */
    private static final class FakeKernels implements LstmBackendProvider {
        @Override public BackendKind kind() { return BackendKind.CUDA_KERNELS; }
        @Override public Availability availability() { return Availability.yes(); }
        @Override public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) { return Optional.empty(); }
        @Override public LstmBackend create(LstmSpec spec, DType dtype) { throw new AssertionError("not created here"); }
    }

    private static LstmSpec.Builder base() {
        return LstmSpec.builder(8, 16);
    }

    static Stream<Arguments> specs() {
        return Stream.of(
                Arguments.of("plain", base().build(), DType.FLOAT32, true),
                Arguments.of("float64", base().build(), DType.FLOAT64, true),
                Arguments.of("stacked bidirectional", base().numLayers(3).bidirectional(true).build(), DType.FLOAT32, true),
                Arguments.of("projection", base().numLayers(2).projSize(4).build(), DType.FLOAT32, true),
                Arguments.of("cell clip", base().cellClip(3.0).build(), DType.FLOAT32, true),
                Arguments.of("dropout, batch-first", base().numLayers(2).dropout(0.3).batchFirst(true).build(),
                        DType.FLOAT32, true),
                Arguments.of("everything cuDNN has", base().numLayers(2).bidirectional(true).projSize(5).cellClip(2)
                        .dropout(0.1).batchFirst(true).build(), DType.FLOAT32, true),
                Arguments.of("peepholes", base().peepholes(true).build(), DType.FLOAT32, false),
                Arguments.of("input-forget", base().inputForget(true).build(), DType.FLOAT32, false),
                Arguments.of("ONNX clip", base().clip(1.0).build(), DType.FLOAT32, false),
                Arguments.of("hard sigmoid gates", base().activations(Activation.parse("HardSigmoid"), Activation.TANH,
                        Activation.TANH).build(), DType.FLOAT32, false),
                Arguments.of("relu cell", base().activations(Activation.SIGMOID, Activation.parse("Relu"),
                        Activation.TANH).build(), DType.FLOAT32, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void withAGpuAutoPicksCudnnExactlyForTheSpecsCudnnRuns(String name, LstmSpec spec, DType dtype, boolean cudnn) {
        Dispatcher d = new Dispatcher(List.of(new ReferenceProvider(), new FakeKernels(),
                new CudnnProvider(Availability::yes)));
        Dispatcher.Selection s = d.chooseAuto(spec, dtype);
        assertEquals(cudnn ? BackendKind.CUDNN : BackendKind.CUDA_KERNELS, s.choice().kind(), s.choice().toString());
        if (!cudnn) {
            assertTrue(s.choice().passedOver().get(0).startsWith("cudnn not used: cuDNN"), s.choice().toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void withAGpuButNoKernelsBackendUnsupportedSpecsFallToTheReference(String name, LstmSpec spec, DType dtype,
                                                                       boolean cudnn) {
        Dispatcher d = new Dispatcher(List.of(new ReferenceProvider(), new CudnnProvider(Availability::yes)));
        assertEquals(cudnn ? BackendKind.CUDNN : BackendKind.REFERENCE, d.chooseAuto(spec, dtype).choice().kind());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void withoutAGpuNothingPicksCudnnAndTheReasonIsTheDriver(String name, LstmSpec spec, DType dtype, boolean cudnn) {
        assumeFalse(CudaDriver.gpuPresent(), "this machine has a GPU");
        Dispatcher d = new Dispatcher(List.of(new ReferenceProvider(), new CudnnProvider()));
        Dispatcher.Selection s = d.chooseAuto(spec, dtype);
        assertEquals(BackendKind.REFERENCE, s.choice().kind());
        assertTrue(s.choice().passedOver().get(0).startsWith("cudnn not used: no NVIDIA driver: libcuda.so.1"),
                s.choice().toString());
    }

    @Test
    void theRealProviderIsDiscoveredThroughTheServicesFile() {
        assertTrue(Dispatcher.discover().provider(BackendKind.CUDNN).orElseThrow() instanceof CudnnProvider);
    }

    @Test
    void forcingCudnnWithAnUnsupportedSpecSaysWhy() {
        Dispatcher d = new Dispatcher(List.of(new ReferenceProvider(), new CudnnProvider(Availability::yes)));
        LstmSpec spec = base().peepholes(true).inputForget(true).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.choose(BackendKind.CUDNN, spec, DType.FLOAT32));
        assertEquals("backend: cudnn was requested but cannot run " + spec + " in float32: cuDNN's LSTM has no "
                + "peephole connections; cuDNN's LSTM has no coupled input-forget gate (inputForget)", e.getMessage());
    }

    @Test
    void forcingCudnnThroughTheLayerWithoutAGpuSaysThereIsNoDriver() {
        assumeFalse(CudaDriver.gpuPresent(), "this machine has a GPU");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.builder(base().build()).backend("cudnn").build());
        assertTrue(e.getMessage().startsWith("backend: cudnn was requested but is unavailable: no NVIDIA driver: "
                + "libcuda.so.1 could not be loaded"), e.getMessage());
    }

    @Test
    void aPersistentAlgorithmIsRefusedForProjections() {
        LstmSpec proj = base().projSize(3).build();
        assertEquals(Optional.empty(), CudnnAlgorithm.STANDARD.refusal(proj));
        assertTrue(CudnnAlgorithm.PERSIST_STATIC.refusal(proj).orElseThrow().contains("projection"));
        assertEquals(Optional.empty(), CudnnAlgorithm.PERSIST_DYNAMIC.refusal(base().build()));
        assertTrue(CudnnAlgorithm.PERSIST_DYNAMIC.refusal(new int[] {5, 4}, 5).orElseThrow()
                .contains("variable lengths (a sequence has length 4 < T=5)"));
        assertEquals(Optional.empty(), CudnnAlgorithm.PERSIST_DYNAMIC.refusal(new int[] {5, 5}, 5));
        assertEquals(Optional.empty(), CudnnAlgorithm.STANDARD.refusal(new int[] {5, 1}, 5));
        assertEquals(CudnnAlgorithm.PERSIST_STATIC_SMALL_H, CudnnAlgorithm.parse("persist_static_small_h"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudnnAlgorithm.parse("fast"));
        assertTrue(e.getMessage().startsWith("lstm4j.cudnn.algo: expected standard"), e.getMessage());
    }
}
