package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.io.ImportedWeights;
import dev.lstm4j.io.Npy;
import dev.lstm4j.io.SafeTensors;
import dev.lstm4j.io.SafeTensorsFile;
import dev.lstm4j.io.VariantOptions;
import dev.lstm4j.io.WeightFiles;
import dev.lstm4j.io.WeightFormat;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForwardCompareCliTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {}

    private static Result lstm4j(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The README's commands, on the shipped example, as written there. */
    @Test
    void readmeExamplesWork() throws IOException {
        Path out = dir.resolve("out");
        Result r = lstm4j("forward", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy",
                "--lengths", "examples/lengths.npy", "--out", out.toString(), "--backward");
        assertEquals(0, r.code, r.err);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(Shape.of(12, 4, 16), Npy.read(out.resolve("output.npy"), arena).shape());
            assertEquals(Shape.of(2, 4, 16), Npy.read(out.resolve("h_n.npy"), arena).shape());
            assertEquals(Shape.of(2, 4, 16), Npy.read(out.resolve("c_n.npy"), arena).shape());
            // lengths 12, 9, 5, 1: sequence 3 has zero output from step 1 on
            Tensor y = Npy.read(out.resolve("output.npy"), arena).floats();
            assertEquals(0.0, y.get(1, 3, 0));
            assertTrue(y.get(0, 3, 0) != 0.0);
        }
        try (SafeTensorsFile g = SafeTensors.read(out.resolve("grads.safetensors"))) {
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1",
                    "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "input", "h0", "c0"), List.copyOf(g.names()));
            assertEquals(Shape.of(12, 4, 8), g.get("input").shape());
        }
        Path report = dir.resolve("report.html");
        r = lstm4j("compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy",
                "--lengths", "examples/lengths.npy", "--warmup", "1", "--report", report.toString());
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("reference:float32 vs reference:float64"), r.out);
        assertTrue(r.out.contains("(* baseline; times of one run after 1 untimed warm-up run)"), r.out);
        String html = Files.readString(report);
        for (String t : new String[] {"output", "h_n", "c_n", "grad:weight_hh_l1", "grad:input", "grad:c0", "forward ms",
                "warm-up"}) {
            assertTrue(html.contains(">" + t + "<"), t);
        }
        assertTrue(html.contains(">1 run, "), "each backend's warm-up in its row");
        r = lstm4j("compare", "--weights", "examples/lstm-onnx-peephole.safetensors", "--input", "examples/input.npy",
                "--backends", "reference:float64,reference:float32", "--warmup", "0");
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("grad:P"), r.out);
    }

    @Test
    void forwardMatchesTheLibraryAndBatchFirstSwapsAxes() throws IOException {
        Path out = dir.resolve("o");
        assertEquals(0, lstm4j("forward", "--weights", "examples/lstm-pytorch.safetensors", "--input",
                "examples/input.npy", "--dtype", "float64", "--out", out.toString()).code);
        try (Arena arena = Arena.ofConfined();
             ImportedWeights w = WeightFiles.read(Path.of("examples/lstm-pytorch.safetensors"), null,
                     VariantOptions.DEFAULT, DType.FLOAT64);
             Lstm lstm = Lstm.builder(w.params().spec()).backend("reference").params(w.params().to(DType.FLOAT64)).build();
             LstmOutput y = lstm.forward(Npy.read(Path.of("examples/input.npy"), arena).toTensor(arena, DType.FLOAT64))) {
            assertArrayEquals(y.output().toDoubleArray(),
                    Npy.read(out.resolve("output.npy"), arena).floats().toDoubleArray(), 0.0);
            // The same input batch-first gives the same numbers with T and B swapped.
            Tensor x = Npy.read(Path.of("examples/input.npy"), arena).floats();
            Tensor xb = Tensor.zeros(arena, DType.FLOAT32, 4, 12, 8);
            for (int t = 0; t < 12; t++) for (int b = 0; b < 4; b++) for (int i = 0; i < 8; i++) xb.set(x.get(t, b, i), b, t, i);
            Path xbPath = dir.resolve("xb.npy");
            Npy.write(xbPath, xb);
            Path outB = dir.resolve("ob");
            assertEquals(0, lstm4j("forward", "--weights", "examples/lstm-pytorch.safetensors", "--input",
                    xbPath.toString(), "--batch-first", "--dtype", "float64", "--out", outB.toString()).code);
            Tensor yb = Npy.read(outB.resolve("output.npy"), arena).floats();
            assertEquals(Shape.of(4, 12, 16), yb.shape());
            assertEquals(y.output().get(7, 2, 5), yb.get(2, 7, 5), 0.0);
        }
    }

    /**
     * grads.safetensors holds gradients under the weight file's own names and layout: checked by central finite
     * differences on the ONNX tensors themselves (perturb one entry of W, R, B or P in the foreign file, rerun).
     * float64, step 1e-6: truncation error ~1e-12 and rounding ~1e-10 on a loss of order 10, so 1e-6 relative
     * leaves a wide margin while a misplaced gate block (an O(1) error) still fails.
     */
    @Test
    void backwardGradientsAreThoseOfTheForeignTensors() throws IOException {
        LstmSpec spec = LstmSpec.builder(3, 4).bidirectional(true).peepholes(true).build();
        Path weights = dir.resolve("onnx.safetensors");
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 9)) {
            WeightFiles.write(weights, p, WeightFormat.ONNX);
        }
        Path x = dir.resolve("x.npy");
        Path g = dir.resolve("g.npy");
        SplittableRandom r = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined()) {
            Tensor xt = Tensor.zeros(arena, DType.FLOAT64, 5, 2, 3);
            for (long k = 0; k < xt.elementCount(); k++) xt.setFlat(k, r.nextDouble(-1, 1));
            Npy.write(x, xt);
            Tensor gt = Tensor.zeros(arena, DType.FLOAT64, 5, 2, 8);
            for (long k = 0; k < gt.elementCount(); k++) gt.setFlat(k, r.nextDouble(-1, 1));
            Npy.write(g, gt);
        }
        Path out = dir.resolve("g");
        Result res = lstm4j("forward", "--weights", weights.toString(), "--input", x.toString(), "--dtype", "float64",
                "--out", out.toString(), "--backward", "--grad-output", g.toString());
        assertEquals(0, res.code, res.err);
        try (SafeTensorsFile grads = SafeTensors.read(out.resolve("grads.safetensors"));
             SafeTensorsFile file = SafeTensors.read(weights);
             Arena arena = Arena.ofConfined()) {
            assertEquals(List.of("W", "R", "B", "P", "input", "h0", "c0"), List.copyOf(grads.names()));
            Tensor xt = Npy.read(x, arena).floats();
            Tensor gt = Npy.read(g, arena).floats();
            long[][] probes = {{0, 0}, {0, 17}, {1, 30}, {2, 3}, {2, 60}, {3, 5}, {3, 20}}; // {tensor index, flat}
            String[] names = {"W", "R", "B", "P"};
            for (long[] probe : probes) {
                String name = names[(int) probe[0]];
                double analytic = grads.get(name).getFlat(probe[1]);
                double numeric = (loss(file, name, probe[1], 1e-6, xt, gt, arena)
                        - loss(file, name, probe[1], -1e-6, xt, gt, arena)) / 2e-6;
                assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)), name + "[" + probe[1] + "]");
            }
        }
    }

    /** <output, G> with one entry of one foreign tensor moved by delta, through the ONNX adapter. */
    private static double loss(SafeTensorsFile file, String name, long flat, double delta, Tensor x, Tensor g, Arena arena) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) t.put(e.getKey(), e.getValue().copy(arena));
        t.get(name).setFlat(flat, t.get(name).getFlat(flat) + delta);
        try (ImportedWeights w = WeightFiles.fromTensors(Path.of("fd"), t, Map.of(), WeightFormat.ONNX,
                VariantOptions.DEFAULT, DType.FLOAT64);
             Lstm lstm = Lstm.builder(w.params().spec()).backend("reference").params(w.params().to(DType.FLOAT64)).build();
             LstmOutput y = lstm.forward(LstmInput.of(x))) {
            double s = 0;
            double[] o = y.output().toDoubleArray(), gg = g.toDoubleArray();
            for (int k = 0; k < o.length; k++) s += o[k] * gg[k];
            return s;
        }
    }

    /**
     * By default each backend warms up until the JIT has gone quiet, and the table says how many runs that took: more
     * than one here, as the first runs compile the reference's loops.
     */
    @Test
    void compareWarmsEachBackendUpUntilTheJitIsQuiet() {
        Result r = lstm4j("compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy",
                "--backends", "reference:float64,reference:float32", "--forward-only");
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("after each backend's untimed runs until the JIT had been quiet for 0.5 s"), r.out);
        List<String> rows = r.out.lines().filter(l -> l.startsWith("reference:float") && !l.contains(" vs ")).toList();
        assertEquals(2, rows.size(), r.out);
        for (String row : rows) {
            assertTrue(row.matches(".* \\d+ runs, \\d+\\.\\d s .*") && !row.contains(" 1 runs"), row);
        }
    }

    @Test
    void compareFailsBeyondToleranceAndBadArgumentsAreOneLine() {
        Result r = lstm4j("compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy",
                "--backends", "reference:float64,reference:float32", "--tolerance", "1e-12", "--forward-only",
                "--warmup", "0");
        assertEquals(1, r.code, r.out);
        assertTrue(r.out.contains("BEYOND"), r.out);

        String[][] bad = {
            {"forward", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy"},
            {"forward", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--out", "x", "--clip", "-1"},
            {"forward", "--weights", "examples/nope.safetensors", "--input", "examples/input.npy", "--out", "x"},
            {"forward", "--weights", "examples/input.npy", "--input", "examples/input.npy", "--out", "x"},
            {"forward", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/lengths.npy", "--out", "x"},
            {"forward", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--out", "x", "--format", "keras"},
            {"compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--backends", "reference"},
            {"compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--backends", "reference,warp-drive"},
            {"compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--warmup", "-1"},
            {"compare", "--weights", "examples/lstm-pytorch.safetensors", "--input", "examples/input.npy", "--warmup", "some"},
        };
        for (String[] argv : bad) {
            r = lstm4j(argv);
            assertEquals(2, r.code, String.join(" ", argv) + " -> " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
            assertFalse(r.err.contains("\tat "), r.err);
        }
        for (String cmd : new String[] {"forward", "compare"}) {
            r = lstm4j(cmd, "--help");
            assertEquals(0, r.code);
            assertTrue(r.out.startsWith("usage: lstm4j " + cmd), r.out);
        }
    }
}
