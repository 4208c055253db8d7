package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cuda.GpuAssumptions;
import dev.lstm4j.cuda.kernels.ReferenceComparison.Case;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
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
