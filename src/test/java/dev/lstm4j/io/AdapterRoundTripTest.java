package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every adapter converts exactly both ways (a file read and exported again is bit-identical), detects its format,
 * infers the spec from names and shapes, and exports gradients as the adjoint of its import.
 */
class AdapterRoundTripTest {
    @TempDir
    Path dir;

    private static final LstmSpec SMALL = LstmSpec.builder(3, 4).build();
    private static final LstmSpec STACKED_BIDI = LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).build();
    private static final LstmSpec PEEP_BIDI = LstmSpec.builder(3, 4).numLayers(2).bidirectional(true).peepholes(true).build();
    private static final LstmSpec PROJ = LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).projSize(2).build();

    static Map<WeightFormat, List<LstmSpec>> specsByFormat() {
        Map<WeightFormat, List<LstmSpec>> m = new LinkedHashMap<>();
        m.put(WeightFormat.PYTORCH, List.of(SMALL, STACKED_BIDI, PROJ, PEEP_BIDI));
        m.put(WeightFormat.KERAS, List.of(SMALL, STACKED_BIDI));
        m.put(WeightFormat.ONNX, List.of(SMALL, STACKED_BIDI, PEEP_BIDI));
        m.put(WeightFormat.DL4J, List.of(SMALL, STACKED_BIDI, PEEP_BIDI));
        m.put(WeightFormat.LSTM4J, List.of(SMALL, PROJ, PEEP_BIDI));
        return m;
    }

    /** Formats with one bias fold bias_hh into bias_ih. */
    private static boolean oneBias(WeightFormat f) {
        return f == WeightFormat.KERAS || f == WeightFormat.DL4J;
    }

    @Test
    void everyFormatRoundTripsExactlyAndIsDetected() throws IOException {
        for (Map.Entry<WeightFormat, List<LstmSpec>> e : specsByFormat().entrySet()) {
            WeightFormat format = e.getKey();
            for (LstmSpec spec : e.getValue()) {
                String what = format + " " + spec;
                Path file = dir.resolve(format + ".safetensors");
                try (LstmParams original = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 11);
                     Arena arena = Arena.ofConfined()) {
                    WeightFiles.write(file, original, format);
                    try (ImportedWeights back = WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT64);
                         SafeTensorsFile raw = SafeTensors.read(file)) {
                        WeightFormat expectedDetected = format == WeightFormat.PYTORCH ? WeightFormat.PYTORCH : format;
                        assertEquals(expectedDetected, back.format(), what);
                        assertEquals(spec, back.params().spec(), what + ": spec inferred from names and shapes");
                        for (String n : spec.parameterNames()) {
                            double[] want = original.get(n).toDoubleArray();
                            if (oneBias(format) && n.startsWith("bias_ih")) {
                                double[] hh = original.get(n.replace("bias_ih", "bias_hh")).toDoubleArray();
                                for (int k = 0; k < want.length; k++) want[k] += hh[k];
                            } else if (oneBias(format) && n.startsWith("bias_hh")) {
                                want = new double[want.length];
                            }
                            assertArrayEquals(want, back.params().get(n).toDoubleArray(), 0.0, what + " " + n);
                        }
                        // Foreign -> canonical -> foreign is the identity, bit for bit.
                        Map<String, Tensor> again = back.export(back.params(), arena);
                        assertEquals(raw.names(), again.keySet(), what);
                        for (String n : raw.names()) {
                            assertEquals(raw.get(n).shape(), again.get(n).shape(), what + " " + n);
                            assertArrayEquals(raw.get(n).toDoubleArray(), again.get(n).toDoubleArray(), 0.0, what + " " + n);
                        }
                    }
                }
            }
        }
    }

    /**
     * Import is a linear map A from the file's tensors to canonical ones; the gradient of a loss with respect to
     * the file's tensors is A^T applied to the canonical gradient. So for any foreign v and canonical g,
     * <exportGradients(g), v> must equal <g, A v>. Exact up to float64 summation order.
     */
    @Test
    void gradientExportIsTheAdjointOfImport() throws IOException {
        SplittableRandom r = new SplittableRandom(5);
        for (Map.Entry<WeightFormat, List<LstmSpec>> e : specsByFormat().entrySet()) {
            for (LstmSpec spec : e.getValue()) {
                String what = e.getKey() + " " + spec;
                Path file = dir.resolve("adj.safetensors");
                try (LstmParams seed = LstmParams.zeros(spec, DType.FLOAT64); Arena arena = Arena.ofConfined()) {
                    WeightFiles.write(file, seed, e.getKey());
                    Map<String, Tensor> v = new LinkedHashMap<>();
                    Map<String, String> metadata;
                    try (SafeTensorsFile raw = SafeTensors.read(file)) {
                        metadata = raw.metadata();
                        for (Map.Entry<String, Tensor> t : raw.tensors().entrySet()) {
                            Tensor copy = Tensor.zeros(arena, DType.FLOAT64, t.getValue().shape());
                            for (long k = 0; k < copy.elementCount(); k++) copy.setFlat(k, r.nextDouble(-1, 1));
                            v.put(t.getKey(), copy);
                        }
                    }
                    try (ImportedWeights imported = WeightFiles.fromTensors(file, v, metadata, null,
                            VariantOptions.DEFAULT, DType.FLOAT64);
                         LstmParams g = LstmParams.zeros(spec, DType.FLOAT64)) {
                        for (Tensor t : g.asMap().values()) {
                            for (long k = 0; k < t.elementCount(); k++) t.setFlat(k, r.nextDouble(-1, 1));
                        }
                        double canonical = 0;
                        for (String n : spec.parameterNames()) {
                            canonical += dot(g.get(n), imported.params().get(n));
                        }
                        Map<String, Tensor> foreignGrad = imported.exportGradients(g, arena);
                        assertEquals(v.keySet(), foreignGrad.keySet(), what);
                        double foreign = 0;
                        for (String n : v.keySet()) {
                            assertEquals(v.get(n).shape(), foreignGrad.get(n).shape(), what + " " + n);
                            foreign += dot(foreignGrad.get(n), v.get(n));
                        }
                        assertEquals(canonical, foreign, 1e-12 * Math.max(1, Math.abs(canonical)), what);
                    }
                }
            }
        }
    }

    private static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    @Test
    void pytorchStateDictWithModulePrefixAndNoBiases() throws IOException {
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(STACKED_BIDI, DType.FLOAT32, Initializer.pytorchUniform(), 2)) {
            Map<String, Tensor> sd = new LinkedHashMap<>();
            for (String n : p.names()) {
                if (!n.startsWith("bias")) sd.put("encoder.rnn." + n, p.get(n));
            }
            Path file = dir.resolve("sd.safetensors");
            SafeTensors.write(file, sd, Map.of());
            try (ImportedWeights w = WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32)) {
                assertEquals(WeightFormat.PYTORCH, w.format());
                assertEquals(STACKED_BIDI, w.params().spec());
                assertArrayEquals(new float[16], w.params().get("bias_hh_l1_reverse").toFloatArray());
                assertEquals(sd.keySet(), w.exportGradients(w.params(), arena).keySet());
            }
        }
    }

    @Test
    void kerasTensorFlowNamesAndBidirectionalWrapper() throws IOException {
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(STACKED_BIDI, DType.FLOAT64, Initializer.pytorchUniform(), 2)) {
            Map<String, Tensor> keras = WeightFiles.toFormat(p, WeightFormat.KERAS, arena);
            Map<String, Tensor> tf = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : keras.entrySet()) {
                // lstm_0/forward/kernel -> bidirectional/forward_lstm/lstm_cell/kernel:0, layer 1 -> bidirectional_1/...
                String[] parts = e.getKey().split("/");
                String layer = parts[0].equals("lstm_0") ? "bidirectional" : "bidirectional_1";
                tf.put(layer + "/" + parts[1] + "_lstm/lstm_cell/" + parts[2] + ":0", e.getValue());
            }
            Path file = dir.resolve("tf.safetensors");
            SafeTensors.write(file, tf, Map.of());
            try (ImportedWeights w = WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT64)) {
                assertEquals(STACKED_BIDI, w.params().spec());
                assertArrayEquals(p.get("weight_hh_l1_reverse").toDoubleArray(),
                        w.params().get("weight_hh_l1_reverse").toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void refusesWhatDoesNotFit() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("weight_ih_l0", Tensor.zeros(arena, DType.FLOAT32, 8, 3));
            t.put("weight_hh_l0", Tensor.zeros(arena, DType.FLOAT32, 8, 3)); // H = 2, so [8, 2] expected
            Path file = dir.resolve("bad.safetensors");
            SafeTensors.write(file, t, Map.of());
            MalformedFileException e = assertThrows(MalformedFileException.class,
                    () -> WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32));
            assertTrue(e.getMessage().contains("'weight_hh_l0': expected shape [8, 2], got [8, 3]"), e.getMessage());

            t.put("weight_hh_l0", Tensor.zeros(arena, DType.FLOAT32, 8, 2));
            t.put("weight_zz_l0", Tensor.zeros(arena, DType.FLOAT32, 1));
            SafeTensors.write(file, t, Map.of());
            e = assertThrows(MalformedFileException.class,
                    () -> WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32));
            assertTrue(e.getMessage().contains("unexpected tensor 'weight_zz_l0'"), e.getMessage());

            Map<String, Tensor> odd = Map.of("W", Tensor.zeros(arena, DType.FLOAT32, 1, 6, 3),
                    "R", Tensor.zeros(arena, DType.FLOAT32, 1, 6, 1));
            SafeTensors.write(file, odd, Map.of());
            e = assertThrows(MalformedFileException.class,
                    () -> WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32));
            assertTrue(e.getMessage().contains("expected a gate dimension of 4*H, got 6"), e.getMessage());

            SafeTensors.write(file, Map.of("foo", Tensor.zeros(arena, DType.FLOAT32, 1)), Map.of());
            e = assertThrows(MalformedFileException.class,
                    () -> WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32));
            assertTrue(e.getMessage().contains("give --format"), e.getMessage());
        }
    }

    @Test
    void checkpointSpecWinsAndConflictingOptionsAreRefused() throws IOException {
        LstmSpec spec = LstmSpec.builder(3, 4).peepholes(true).inputForget(true).clip(2.0).build();
        Path file = dir.resolve("ck.safetensors");
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 1)) {
            Checkpoint.save(file, p);
        }
        try (ImportedWeights w = WeightFiles.read(file, null, VariantOptions.DEFAULT, DType.FLOAT32)) {
            assertEquals(WeightFormat.LSTM4J, w.format());
            assertEquals(spec, w.params().spec(), "the checkpoint alone rebuilds the variant");
        }
        VariantOptions batchFirst = new VariantOptions(null, Double.NaN, false, true);
        try (ImportedWeights w = WeightFiles.read(file, WeightFormat.LSTM4J, batchFirst, DType.FLOAT32)) {
            assertTrue(w.params().spec().batchFirst(), "the input layout is the caller's");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightFiles.read(file, null,
                new VariantOptions(null, 3.0, false, false), DType.FLOAT32));
        assertTrue(e.getMessage().contains("leave those options out"), e.getMessage());
    }
}
