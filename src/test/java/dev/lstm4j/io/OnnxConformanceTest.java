package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ONNX project's own conformance cases for its LSTM operator (node tests {@code test_lstm_defaults},
 * {@code _with_initial_bias}, {@code _with_peepholes}, {@code _batchwise}, from Debian's libonnx-testdata 1.12),
 * converted by {@code src/test/python/onnx_lstm_fixtures.py}: the operator's inputs (W, R, B, P read through the ONNX
 * weight adapter, input, lengths, initial state) and the outputs ONNX gives. Their weights are constant, so they do
 * not tell the gates apart (the PyTorch fixtures do); what they pin is the ONNX equations themselves, peepholes
 * included: one step from c0 = 0, where only the output gate's peephole, on the new c, can change the result.
 *
 * <p>Tolerance 1e-6 absolute on outputs below 1: ONNX's expected values are float32 (a rounding of 6e-8), computed
 * in float32 by its reference over one to three steps of dot products of at most 7 terms.
 */
class OnnxConformanceTest {
    static final double TOL = 1e-6;
    static final List<String> CASES = List.of("lstm_defaults", "lstm_with_initial_bias", "lstm_with_peepholes",
            "lstm_batchwise");
    private static final Set<String> WEIGHTS = Set.of("W", "R", "B", "P");

    static Stream<Arguments> runs() {
        return ForeignFixtures.arguments(CASES, ForeignFixtures.CPU_SIDE);
    }

    @ParameterizedTest(name = "{0} on {1} in {2}")
    @MethodSource("runs")
    void matchesOnnx(String name, BackendKind backend, DType dtype) throws IOException, URISyntaxException {
        Path file = ForeignFixtures.path("onnx", name);
        try (SafeTensorsFile fixture = SafeTensors.read(file);
             Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> weights = new LinkedHashMap<>();
            for (String n : fixture.names()) {
                if (WEIGHTS.contains(n)) weights.put(n, fixture.get(n));
            }
            boolean batchFirst = "1".equals(fixture.metadata().get("layout"));
            VariantOptions options = new VariantOptions(null, Double.NaN, false, batchFirst);
            try (ImportedWeights imported = WeightFiles.fromTensors(file, weights, fixture.metadata(),
                    WeightFormat.ONNX, options, dtype)) {
                LstmParams params = imported.params();
                assertEquals(Integer.parseInt(fixture.metadata().get("hidden_size")), params.spec().hiddenSize());
                assertEquals(fixture.names().contains("P"), params.spec().peepholes(), "peepholes read");
                try (Lstm lstm = Lstm.builder(params.spec()).backend(backend).params(params).build()) {
                    try (LstmOutput out = lstm.forward(ForeignFixtures.input(fixture, dtype, arena))) {
                        // one layer, one direction: ONNX's Y [T, 1, B, H] or [B, T, 1, H] and Y_h [1, B, H] or
                        // [B, 1, H] hold their values in the order of our output and h_n
                        assertClose(name + " on " + backend + " in " + dtype + ": Y_h", fixture.get("expected.Y_h"),
                                out.hN());
                        if (fixture.names().contains("expected.Y")) {
                            assertClose(name + " on " + backend + " in " + dtype + ": Y", fixture.get("expected.Y"),
                                    out.output());
                        }
                    }
                }
            }
        }
    }

    private static void assertClose(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.elementCount(), actual.elementCount(), what + ": element count");
        for (long i = 0; i < expected.elementCount(); i++) {
            double e = expected.getFlat(i);
            double a = actual.getFlat(i);
            if (!(Math.abs(a - e) <= TOL)) {
                throw new AssertionError(what + ": element " + i + " is " + a + ", ONNX gives " + e + " (beyond "
                        + TOL + ")");
            }
        }
    }
}
