package dev.lstm4j.cli;

import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** A small tour: builds an LSTM, runs it forward and backward on random data, and prints what it did. */
final class ExampleCommand implements Command {
    @Override
    public String name() {
        return "example";
    }

    @Override
    public String summary() {
        return "build a small LSTM, run it forward and backward, print what happened";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j example [--seq-length T] [--batch B] [--input-size I] [--hidden-size H]
                                      [--layers L] [--bidirectional] [--peepholes] [--dtype float32|float64]
                                      [--backend auto|reference|...] [--seed S]
                Runs one forward and one backward pass of an LSTM on random inputs and prints shapes,
                norms, the backend that ran and why, and the time each pass took.""";
    }

    @Override
    public java.util.Set<String> booleanFlags() {
        return java.util.Set.of("bidirectional", "peepholes");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        int t = args.intOption("seq-length", 20);
        int b = args.intOption("batch", 8);
        int i = args.intOption("input-size", 16);
        int h = args.intOption("hidden-size", 32);
        int layers = args.intOption("layers", 2);
        boolean bidi = args.flag("bidirectional");
        boolean peep = args.flag("peepholes");
        DType dtype = DType.parse(args.option("dtype", "float64"));
        String backend = args.option("backend", "auto");
        long seed = args.longOption("seed", 1);
        args.finish();

        LstmSpec spec = LstmSpec.builder(i, h).numLayers(layers).bidirectional(bidi).peepholes(peep).build();
        try (Arena arena = Arena.ofConfined();
             Lstm lstm = Lstm.builder(spec).dtype(dtype).backend(backend).seed(seed).build()) {
            out.println("spec:     " + spec);
            out.println("params:   " + lstm.params().parameterCount() + " " + dtype + " parameters");
            out.println("backend:  " + lstm.backendChoice());
            Tensor x = random(arena, dtype, Shape.of(t, b, i), new SplittableRandom(seed + 1));
            long t0 = System.nanoTime();
            try (LstmOutput y = lstm.forward(LstmInput.of(x).training(true))) {
                long t1 = System.nanoTime();
                Tensor dy = random(arena, dtype, y.output().shape(), new SplittableRandom(seed + 2));
                try (LstmGradients g = lstm.backward(y, dy)) {
                    long t2 = System.nanoTime();
                    out.printf("forward:  input %s -> output %s, h_n %s, c_n %s in %.1f ms%n",
                            x.shape(), y.output().shape(), y.hN().shape(), y.cN().shape(), (t1 - t0) / 1e6);
                    out.printf("          |output| = %.6f%n", norm(y.output()));
                    out.printf("backward: gradient of <output, G> for G random, in %.1f ms%n", (t2 - t1) / 1e6);
                    out.printf("          |d input| = %.6f, |d h0| = %.6f, |d c0| = %.6f%n",
                            norm(g.input()), norm(g.h0()), norm(g.c0()));
                    for (String name : g.params().names()) {
                        out.printf("          |d %s| = %.6f  %s%n", name, norm(g.params().get(name)),
                                g.params().get(name).shape());
                    }
                }
            }
        }
        return 0;
    }

    private static Tensor random(Arena arena, DType dtype, Shape shape, SplittableRandom r) {
        Tensor t = Tensor.zeros(arena, dtype, shape);
        for (long k = 0; k < t.elementCount(); k++) {
            t.setFlat(k, r.nextDouble(-1, 1));
        }
        return t;
    }

    private static double norm(Tensor t) {
        double s = 0;
        for (double v : t.toDoubleArray()) s += v * v;
        return Math.sqrt(s);
    }
}
