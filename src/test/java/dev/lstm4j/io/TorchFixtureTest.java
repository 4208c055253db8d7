package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.cuda.GpuAssumptions;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every backend that runs without a GPU, held to PyTorch itself: {@code torch.nn.LSTM} (Debian's python3-torch 1.13,
 * in float64) on seeded weights, input, lengths (through {@code pack_padded_sequence}), h0, c0 and output
 * gradients, with its output, h_n, c_n and the gradient of sum(output * grad_output) + sum(h_n * grad_h_n) +
 * sum(c_n * grad_c_n) for the input, h0, c0 and every weight. {@code src/test/python/torch_lstm_fixtures.py} wrote the
 * files in {@code src/test/resources/dev/lstm4j/torch/}; the cases cover projections, two bidirectional layers,
 * unsorted lengths down to 1, batch-first, the fast backend's vector kernels (H = 24) and its batch chunks (B = 64).
 * The weights are read through the PyTorch adapter, as a user's file is.
 *
 * <p>Tolerances, |got - torch| <= tol * (1 + |torch|) element by element for the forward tensors and
 * tol * max(1, max |torch|) for each gradient tensor:
 * <ul>
 *   <li>float64 (the reference): 1e-12. Both sides compute in float64 and differ only in the order of their sums (dot
 *   products of at most 48 terms, over at most 8 steps and 2 layers): a few units of 1e-16 per operation.</li>
 *   <li>float32 (the reference, the fast CPU backend, the kernels built for the host): 5e-6 forward, 2e-5 for the
 *   gradients, as {@code FastCpuBackendEquivalenceTest} derives them for float32 rounding over a few steps of dot
 *   products of up to 70 terms; here the weights and inputs are also rounded to float32 on the way in (a relative
 *   2^-24 each), which adds an error of the same order.</li>
 * </ul>
 * Observed, worst over the cases: 8e-16 in float64; in float32 2.6e-7 forward and 5.3e-7 for the gradients (the fast
 * cpu backend's; 2.6e-7 and 4.4e-7 with VectorExp's earlier series, 2.3e-7 and 4.4e-7 with the Vector API's exp in
 * its standard kernels). A wrong gate order,
 * mask, reverse-direction start or projection is O(0.01..1) off (the length cases fail by far with the lengths left
 * out).
 */
class TorchFixtureTest {
    static final double FLOAT64_TOL = 1e-12;
    static final double FORWARD_TOL_32 = 5e-6;
    static final double GRAD_TOL_32 = 2e-5;
    static final List<String> CASES = List.of("bidirectional-projection-lengths", "batch-first",
            "wide-two-layers-lengths", "bidirectional-two-chunks");

    /** cuDNN in float64 (as {@code CudnnLstmGpuTest}: it sums in another order) and the GPU backends in float32. */
    static final double GPU_FLOAT64_TOL = 1e-9;
    /**
     * {@code CudnnLstmGpuTest}'s float32 bound, for cuDNN and for the kernels on cuBLAS: the same roundoff as on the CPU,
     * with margin for cuDNN's own algorithms.
     */
    static final double GPU_FLOAT32_TOL = 2e-4;

    static Stream<Arguments> runs() {
        return ForeignFixtures.arguments(CASES, ForeignFixtures.CPU_SIDE);
    }

    static Stream<Arguments> gpuRuns() {
        return ForeignFixtures.arguments(CASES, List.of(new ForeignFixtures.Run(BackendKind.CUDNN, DType.FLOAT64),
                new ForeignFixtures.Run(BackendKind.CUDNN, DType.FLOAT32),
                new ForeignFixtures.Run(BackendKind.CUDA_KERNELS, DType.FLOAT32)));
    }

    @ParameterizedTest(name = "{0} on {1} in {2}")
    @MethodSource("runs")
    void matchesPyTorch(String name, BackendKind backend, DType dtype) throws IOException, URISyntaxException {
        boolean f64 = dtype == DType.FLOAT64;
        run(name, backend, dtype, f64 ? FLOAT64_TOL : FORWARD_TOL_32, f64 ? FLOAT64_TOL : GRAD_TOL_32);
    }

    /** The same on a GPU: skipped, saying why, without one; with a GPU whose libraries do not load, a failure. */
    @Tag("gpu")
    @ParameterizedTest(name = "{0} on {1} in {2}")
    @MethodSource("gpuRuns")
    void matchesPyTorchOnTheGpu(String name, BackendKind backend, DType dtype) throws IOException, URISyntaxException {
        GpuAssumptions.assumeGpuWithLibraries();
        double tol = dtype == DType.FLOAT64 ? GPU_FLOAT64_TOL : GPU_FLOAT32_TOL;
        run(name, backend, dtype, tol, tol);
    }

    private static void run(String name, BackendKind backend, DType dtype, double fwdTol, double gradTol)
            throws IOException, URISyntaxException {
        Path file = ForeignFixtures.path("torch", name);
        try (SafeTensorsFile fixture = SafeTensors.read(file);
             Arena arena = Arena.ofConfined()) {
            Map<String, String> meta = fixture.metadata();
            Map<String, Tensor> weights = new LinkedHashMap<>();
            for (String n : fixture.names()) {
                if (n.startsWith("weight_") || n.startsWith("bias_")) weights.put(n, fixture.get(n));
            }
            boolean batchFirst = Boolean.parseBoolean(meta.get("batch_first"));
            VariantOptions options = new VariantOptions(null, Double.NaN, false, batchFirst);
            try (ImportedWeights imported = WeightFiles.fromTensors(file, weights, meta, WeightFormat.PYTORCH, options,
                    dtype)) {
                LstmSpec spec = imported.params().spec();
                assertEquals(Integer.parseInt(meta.get("hidden_size")), spec.hiddenSize(), "hidden size read");
                assertEquals(Integer.parseInt(meta.get("proj_size")), spec.projSize(), "projection read");
                assertEquals(Integer.parseInt(meta.get("num_layers")), spec.numLayers(), "layers read");
                assertEquals(Boolean.parseBoolean(meta.get("bidirectional")), spec.numDirections() == 2,
                        "directions read");
                assertEquals(batchFirst, spec.batchFirst(), "batch-first");
                check(name, backend, dtype, fixture, imported.params(), arena, fwdTol, gradTol);
            }
        }
    }

    private static void check(String name, BackendKind backend, DType dtype, SafeTensorsFile fixture,
                              LstmParams params, Arena arena, double fwdTol, double gradTol) {
        LstmSpec spec = params.spec();
        try (Lstm lstm = Lstm.builder(spec).backend(backend).params(params).build()) {
            assertEquals(backend, lstm.backendChoice().kind(), "the backend asked for runs");
            LstmInput in = ForeignFixtures.input(fixture, dtype, arena).training(true);
            String where = name + " on " + backend + " in " + dtype;
            try (LstmOutput out = lstm.forward(in)) {
                assertClose(where + ": output", fixture.get("expected.output"), out.output(), fwdTol, false);
                assertClose(where + ": h_n", fixture.get("expected.h_n"), out.hN(), fwdTol, false);
                assertClose(where + ": c_n", fixture.get("expected.c_n"), out.cN(), fwdTol, false);
                try (LstmGradients g = lstm.backward(out, fixture.get("grad_output").to(dtype, arena),
                        fixture.get("grad_h_n").to(dtype, arena), fixture.get("grad_c_n").to(dtype, arena))) {
                    assertClose(where + ": d input", fixture.get("grad.input"), g.input(), gradTol, true);
                    assertClose(where + ": d h0", fixture.get("grad.h0"), g.h0(), gradTol, true);
                    assertClose(where + ": d c0", fixture.get("grad.c0"), g.c0(), gradTol, true);
                    int checked = 0;
                    for (String n : params.names()) {
                        assertClose(where + ": d " + n, fixture.get("grad." + n), g.params().get(n), gradTol, true);
                        checked++;
                    }
                    assertTrue(checked >= 4, where + ": every weight's gradient checked, got " + checked);
                }
            }
        }
    }

    private static void assertClose(String what, Tensor expected, Tensor actual, double tol, boolean relativeToMax) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        long n = expected.elementCount();
        double scale = 1;
        if (relativeToMax) {
            for (long i = 0; i < n; i++) scale = Math.max(scale, Math.abs(expected.getFlat(i)));
        }
        double worst = 0;
        long at = -1;
        for (long i = 0; i < n; i++) {
            double e = expected.getFlat(i);
            double a = actual.getFlat(i);
            double bound = tol * (relativeToMax ? scale : 1 + Math.abs(e));
            double excess = Double.isNaN(a) ? Double.POSITIVE_INFINITY : Math.abs(a - e) / bound;
            if (excess > worst) {
                worst = excess;
                at = i;
            }
        }
        if (worst > 1) {
            throw new AssertionError(what + ": element " + at + " is " + actual.getFlat(at) + ", PyTorch gives "
                    + expected.getFlat(at) + " (beyond " + tol + (relativeToMax ? " x " + scale : " x (1 + |torch|)")
                    + ")");
        }
    }
}
