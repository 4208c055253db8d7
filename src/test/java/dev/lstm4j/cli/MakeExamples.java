package dev.lstm4j.cli;

import dev.lstm4j.io.Npy;
import dev.lstm4j.io.WeightFiles;
import dev.lstm4j.io.WeightFormat;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes the files in {@code examples/} that the README uses (deterministic; rerun to regenerate):
 * <pre>mvn -q -o test-compile && java -cp target/classes:target/test-classes dev.lstm4j.cli.MakeExamples examples</pre>
 */
public final class MakeExamples {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "examples");
        Files.createDirectories(dir);
        // A PyTorch nn.LSTM(input_size=8, hidden_size=16, num_layers=2) state_dict, float32.
        LstmSpec spec = LstmSpec.builder(8, 16).numLayers(2).build();
        try (LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 2026)) {
            WeightFiles.write(dir.resolve("lstm-pytorch.safetensors"), p, WeightFormat.PYTORCH);
        }
        // An ONNX LSTM node, bidirectional with peepholes: W [2, 4H, I], R, B, P, gate order i, o, f, c.
        LstmSpec onnx = LstmSpec.builder(8, 6).bidirectional(true).peepholes(true).build();
        try (LstmParams p = LstmParams.initialized(onnx, DType.FLOAT32, Initializer.pytorchUniform(), 7)) {
            WeightFiles.write(dir.resolve("lstm-onnx-peephole.safetensors"), p, WeightFormat.ONNX);
        }
        SplittableRandom r = new SplittableRandom(1);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.zeros(arena, DType.FLOAT32, 12, 4, 8); // [T, B, I]
            for (long k = 0; k < x.elementCount(); k++) x.setFlat(k, r.nextDouble(-1, 1));
            Npy.write(dir.resolve("input.npy"), x);
            Npy.writeIntegers(dir.resolve("lengths.npy"), Shape.of(4), new long[] {12, 9, 5, 1}, false);
        }
    }
}
