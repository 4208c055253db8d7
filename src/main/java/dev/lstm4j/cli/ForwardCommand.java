package dev.lstm4j.cli;

import dev.lstm4j.io.Npy;
import dev.lstm4j.io.SafeTensors;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code lstm4j forward}: runs weights from a file on inputs from .npy files and writes the results as .npy. */
final class ForwardCommand implements Command {
    @Override
    public String name() {
        return "forward";
    }

    @Override
    public String summary() {
        return "run LSTM weights from a file on .npy inputs; write output, h_n, c_n (and gradients)";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j forward --weights W.safetensors [--format pytorch|keras|onnx|dl4j|lstm4j] --input X.npy
                                      [--lengths L.npy] [--h0 H.npy --c0 C.npy] [--batch-first]
                                      [--activations A,B,C] [--clip V] [--input-forget] [--dtype float32|float64]
                                      [--backend auto|reference|cpu|cudnn|kernels] --out DIR
                                      [--backward [--grad-output G.npy]]
                Runs the LSTM whose weights are in W (any supported layout, converted to lstm4j's) on X and writes
                DIR/output.npy [T, B, D*H_out] (batch-first: [B, T, D*H_out]), DIR/h_n.npy [D*layers, B, H_out]
                and DIR/c_n.npy [D*layers, B, H], shapes as PyTorch's nn.LSTM returns them. The spec (layers, sizes,
                direction, projection, peepholes) comes from the weight file; what it cannot say comes from the
                options. With --backward it also writes DIR/grads.safetensors: the gradient of sum(output) (or of
                <output, G> with --grad-output) for every weight, under the weight file's own names and layout,
                plus 'input', 'h0' and 'c0'.
                """ + RunInputs.USAGE + """

                  --dtype D                 float32 (default) or float64: the precision the backend computes in
                  --backend B               auto (default) or a backend name; a backend that cannot run is an error
                  --out DIR                 output directory, created if missing (required)
                  --backward                also compute and write gradients\
                """;
    }

    @Override
    public Set<String> booleanFlags() {
        return Set.of("batch-first", "input-forget", "backward");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws Exception {
        RunInputs.Spec spec = RunInputs.readOptions(args);
        DType dtype = parseDType(args.option("dtype", "float32"));
        String backend = args.option("backend", "auto");
        Path outDir = Path.of(args.required("out"));
        boolean backward = args.flag("backward");
        if (spec.gradOutput() != null && !backward) {
            throw new UsageException("--grad-output needs --backward");
        }
        args.finish();
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out: '" + outDir + "' exists and is not a directory");
        }
        try (RunInputs in = RunInputs.load(spec);
             BackendRun run = BackendRun.run(in, backend, dtype, backward, new WarmupPolicy(0), 1)) {
            Files.createDirectories(outDir);
            out.println("weights:  " + in.weightsPath + " (" + in.weights.format() + ") -> " + in.spec);
            out.println("backend:  " + run.choice + ", " + dtype);
            for (String name : new String[] {"output", "h_n", "c_n"}) {
                Path p = outDir.resolve(name + ".npy");
                Npy.write(p, run.tensors.get(name));
                out.println("wrote:    " + p + " " + run.tensors.get(name).shape());
            }
            out.printf("forward:  %.2f ms%n", run.forwardMs);
            if (backward) {
                Map<String, Tensor> grads = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : run.tensors.entrySet()) {
                    if (e.getKey().startsWith(BackendRun.GRAD)) {
                        String name = e.getKey().substring(BackendRun.GRAD.length());
                        if (grads.put(name, e.getValue()) != null) {
                            throw new IllegalArgumentException("--weights: a weight is named '" + name
                                    + "', which grads.safetensors needs for the gradient of the " + name);
                        }
                    }
                }
                Path p = outDir.resolve("grads.safetensors");
                SafeTensors.write(p, grads, Map.of("loss", in.lossDescription(), "format", in.weights.format().label()));
                out.printf("backward: %.2f ms, gradient of %s%n", run.backwardMs, in.lossDescription());
                out.println("wrote:    " + p + " (" + grads.size() + " tensors: " + String.join(", ", grads.keySet()) + ")");
            }
        }
        return 0;
    }

    static DType parseDType(String s) {
        try {
            return DType.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
    }
}
