package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cuda.GpuAssumptions;
import dev.lstm4j.cuda.kernels.ReferenceComparison.Case;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.testing.FrozenParamsCheck;
import dev.lstm4j.testing.ResultArenaCheck;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The nvcc build of the kernels on a GPU (backend "kernels": cuBLAS + the device library) against the float64
 * reference: the same variants, data and tolerance as {@link HostKernelsVsReferenceTest} (float32 arithmetic on
 * either side; cuBLAS SGEMM in its default math mode, which does not use TF32), and the same training run as
 * {@link PeepholeTrainingTest}. Skips, saying why, without a GPU; with a GPU whose libraries do not load, fails.
 */
@Tag("gpu")
class CudaKernelsGpuTest {

    @BeforeEach
    void needsAGpu() {
        GpuAssumptions.assumeGpu();
    }

    static Stream<Case> variants() {
        return HostKernelsVsReferenceTest.variants();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheFloat64Reference(Case c) {
        try (LstmParams w = c.weights()) {
            Map<String, double[]> gpu = ReferenceComparison.run(c, "kernels", DType.FLOAT32, w);
            Map<String, double[]> reference = ReferenceComparison.run(c, "reference", DType.FLOAT64, w);
            ReferenceComparison.assertClose(c, gpu, reference);
        }
    }

    /**
     * Results in the caller's confined arena, downloaded through views by address: what the calls' own arenas hold,
     * within 1e-5 (1 + |x|) (the device's sums may change order from call to call).
     */
    @Test
    void resultsInTheCallersConfinedArena() throws Exception {
        LstmSpec spec = LstmSpec.builder(3, 5).numLayers(2).peepholes(true).build();
        try (Lstm gpu = Lstm.builder(spec).backend("kernels").seed(2).build()) {
            ResultArenaCheck.assertCallerArenaResultsMatchOwn(gpu, 3, 1e-5f);
        }
    }

    /**
     * Frozen parameters keep their device copies across calls (FrozenDeviceWeights, checked on the host build in
     * FrozenDeviceWeightsTest); here on the GPU, where an upload is asynchronous on the backend's stream. Tolerance
     * 1e-5 (1 + |x|): cuBLAS may pick another reduction order between calls, a few ulps in sums of a few dozen
     * terms; another set's weights would give errors of order 0.01-0.1.
     */
    @Test
    void frozenParametersKeepTheirDeviceCopiesAndGiveTheirOwnResults() {
        LstmSpec spec = LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).peepholes(true).build();
        try (LstmBackend backend = new CudaKernelsProvider().create(spec, DType.FLOAT32)) {
            FrozenParamsCheck.assertFrozenCallsMatchUnfrozen(backend, spec, 4, 3, 1e-5f);
            assertEquals(2, ((KernelBackend) backend).frozenWeights().uploads(), "each frozen set uploaded once");
        }
    }

    @Test
    void autoPicksTheKernelsForAPeepholeSpecAndSaysWhy() {
        try (Lstm lstm = Lstm.builder(LstmSpec.builder(3, 4).peepholes(true).build()).build()) {
            assertEquals(BackendKind.CUDA_KERNELS, lstm.backendChoice().kind(), lstm.backendChoice().toString());
        }
    }

    @Test
    void aPeepholeLstmTrainsOnTheGpuLikeTheReference() {
        LstmSpec spec = LstmSpec.builder(2, 6).peepholes(true).build();
        double[] gpu;
        double[] reference;
        try (LstmParams init = ReferenceComparison.weights(spec, 2024, 0.4)) {
            gpu = PeepholeTrainingTest.train(spec, "kernels", DType.FLOAT32, init);
            reference = PeepholeTrainingTest.train(spec, "reference", DType.FLOAT64, init);
        }
        for (int s = 0; s < PeepholeTrainingTest.STEPS; s++) {
            assertEquals(reference[s], gpu[s], PeepholeTrainingTest.TOLERANCE * Math.max(1, reference[s]),
                    "loss at SGD step " + s);
        }
        assertTrue(reference[PeepholeTrainingTest.STEPS - 1] < reference[0]);
    }
}
