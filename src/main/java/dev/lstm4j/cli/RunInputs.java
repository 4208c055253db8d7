package dev.lstm4j.cli;

import dev.lstm4j.io.ImportedWeights;
import dev.lstm4j.io.Npy;
import dev.lstm4j.io.NpyArray;
import dev.lstm4j.io.VariantOptions;
import dev.lstm4j.io.WeightFiles;
import dev.lstm4j.io.WeightFormat;
import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The options {@code forward} and {@code compare} share, and the files they name, loaded once in float64 (weights
 * through their format's adapter, arrays from .npy) so that every run converts from the same exact values.
 */
final class RunInputs implements AutoCloseable {
    static final String USAGE = """
              --weights W.safetensors   LSTM weights (required)
              --format F                pytorch|keras|onnx|dl4j|lstm4j; default: told by the tensor names
              --input X.npy             input [T, B, I] (with --batch-first [B, T, I]), <f4 or <f8 (required)
              --lengths L.npy           per-sequence lengths [B], <i4 or <i8, each in 1..T (default: all T)
              --h0 H.npy --c0 C.npy     initial state [D*layers, B, H_out] and [D*layers, B, H] (default: zeros)
              --batch-first             input and output are [B, T, ...]
              --activations A,B,C       ONNX activations f,g,h, e.g. Sigmoid,Tanh,Tanh or HardSigmoid(0.2,0.5),Tanh,Tanh
              --clip V                  ONNX clip: bounds the input of every activation to [-V, V]
              --input-forget            coupled input-forget gate (f = 1 - i)
              --grad-output G.npy       for gradients: the loss is <output, G> (default: sum(output))\
            """;

    final Path weightsPath;
    final ImportedWeights weights; // float64 canonical
    final LstmSpec spec;
    private final Arena arena; // owns the arrays below
    final Tensor input;       // float64
    final int[] lengths;      // null = full length
    final Tensor h0;          // float64 or null
    final Tensor c0;
    final Tensor gradOutput;  // float64 or null (sum(output))
    final Path gradOutputPath;

    private RunInputs(Path weightsPath, ImportedWeights weights, Arena arena, Tensor input, int[] lengths, Tensor h0, Tensor c0,
                      Tensor gradOutput, Path gradOutputPath) {
        this.weightsPath = weightsPath;
        this.weights = weights;
        this.arena = arena;
        this.spec = weights.params().spec();
        this.input = input;
        this.lengths = lengths;
        this.h0 = h0;
        this.c0 = c0;
        this.gradOutput = gradOutput;
        this.gradOutputPath = gradOutputPath;
    }

    /** Reads the shared options from {@code args} (the caller calls {@code args.finish()} afterwards). */
    static Spec readOptions(Args args) {
        Path weights = existing(args, "weights", true);
        String format = args.option("format", null);
        Path input = existing(args, "input", true);
        Path lengths = existing(args, "lengths", false);
        Path h0 = existing(args, "h0", false);
        Path c0 = existing(args, "c0", false);
        if ((h0 == null) != (c0 == null)) {
            throw new UsageException("--h0 and --c0 go together, got only " + (h0 == null ? "--c0" : "--h0"));
        }
        boolean batchFirst = args.flag("batch-first");
        String acts = args.option("activations", null);
        double clip = args.doubleOption("clip", Double.NaN);
        if (args.has("clip") && !(clip > 0 && Double.isFinite(clip))) {
            throw new UsageException("--clip: expected a finite threshold > 0, got " + clip);
        }
        boolean inputForget = args.flag("input-forget");
        Path gradOutput = existing(args, "grad-output", false);
        WeightFormat f;
        try {
            f = format == null ? null : WeightFormat.parse(format);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
        return new Spec(weights, f, input, lengths, h0, c0, gradOutput,
                new VariantOptions(acts == null ? null : parseActivations(acts), clip, inputForget, batchFirst));
    }

    record Spec(Path weights, WeightFormat format, Path input, Path lengths, Path h0, Path c0, Path gradOutput,
                VariantOptions options) {}

    private static Path existing(Args args, String name, boolean required) {
        String v = required ? args.required(name) : args.option(name, null);
        if (v == null) return null;
        Path p = Path.of(v);
        if (!Files.isRegularFile(p)) {
            throw new UsageException("--" + name + ": no such file '" + v + "'");
        }
        return p;
    }

    /** Splits on commas outside parentheses: {@code HardSigmoid(0.2,0.5),Tanh,Tanh}. */
    static Activation[] parseActivations(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(') depth++;
            if (c == ')') depth--;
            if (c == ',' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(text.substring(start));
        if (parts.size() != 3) {
            throw new UsageException("--activations: expected three activations f,g,h (e.g. Sigmoid,Tanh,Tanh), got '"
                    + text + "'");
        }
        Activation[] out = new Activation[3];
        for (int i = 0; i < 3; i++) {
            try {
                out[i] = Activation.parse(parts.get(i));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--activations: " + e.getMessage());
            }
        }
        return out;
    }

    static RunInputs load(Spec s) throws IOException {
        ImportedWeights w = WeightFiles.read(s.weights(), s.format(), s.options(), DType.FLOAT64);
        Arena arena = Arena.ofShared();
        try {
            LstmSpec spec = w.params().spec();
            Tensor x = floats(s.input(), "input", arena);
            int[] lengths = null;
            if (s.lengths() != null) {
                NpyArray a = Npy.read(s.lengths(), arena);
                if (a.shape().rank() != 1) {
                    throw new IllegalArgumentException("--lengths " + s.lengths() + ": expected shape [B], got " + a.shape());
                }
                lengths = a.toInts();
            }
            Tensor h0 = s.h0() == null ? null : floats(s.h0(), "h0", arena);
            Tensor c0 = s.c0() == null ? null : floats(s.c0(), "c0", arena);
            LstmInput probe = LstmInput.of(x).withLengths(lengths).withInitialState(h0, c0);
            try {
                LstmShapes.checkInput(spec, DType.FLOAT64, probe);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " (the weights in " + s.weights() + " give " + spec + ")");
            }
            Tensor g = null;
            if (s.gradOutput() != null) {
                g = floats(s.gradOutput(), "grad-output", arena);
                LstmShapes.requireShape("--grad-output", g,
                        LstmShapes.outputShape(spec, probe.seqLength(spec), probe.batchSize(spec)), DType.FLOAT64);
            }
            return new RunInputs(s.weights(), w, arena, x, lengths, h0, c0, g, s.gradOutput());
        } catch (IOException | RuntimeException e) {
            arena.close();
            w.close();
            throw e;
        }
    }

    private static Tensor floats(Path p, String what, Arena arena) throws IOException {
        NpyArray a = Npy.read(p, arena);
        if (!a.isFloat()) {
            throw new IllegalArgumentException("--" + what + " " + p + ": expected a float array (<f4 or <f8), got " + a.descr());
        }
        return a.toTensor(arena, DType.FLOAT64);
    }

    /** This run's inputs in {@code dtype}, allocated in {@code target}. */
    LstmInput inputFor(DType dtype, Arena target, boolean training) {
        LstmInput in = LstmInput.of(input.to(dtype, target)).withLengths(lengths)
                .withInitialState(h0 == null ? null : h0.to(dtype, target), c0 == null ? null : c0.to(dtype, target));
        return in.training(training);
    }

    int seqLength() {
        return input.shape().intDim(spec.batchFirst() ? 1 : 0);
    }

    int batch() {
        return input.shape().intDim(spec.batchFirst() ? 0 : 1);
    }

    /** G in {@code dtype}: the given one, or ones (the gradient of sum(output)). */
    Tensor gradOutputFor(DType dtype, Arena target) {
        if (gradOutput != null) {
            return gradOutput.to(dtype, target);
        }
        Tensor ones = Tensor.zeros(target, dtype, LstmShapes.outputShape(spec, seqLength(), batch()));
        for (long k = 0; k < ones.elementCount(); k++) ones.setFlat(k, 1.0);
        return ones;
    }

    String lossDescription() {
        return gradOutput == null ? "sum(output)" : "<output, G> with G from " + gradOutputPath;
    }

    @Override
    public void close() {
        weights.close();
        if (arena.scope().isAlive()) arena.close();
    }
}
