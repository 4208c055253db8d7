package dev.lstm4j.cli;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code lstm4j compare}: runs the same weights and inputs on several backends and dtypes, and holds every result
 * tensor of each to the first (the baseline) within a tolerance derived from a rounding-error model.
 */
final class CompareCommand implements Command {
    @Override
    public String name() {
        return "compare";
    }

    @Override
    public String summary() {
        return "run the same weights and inputs on several backends; per-tensor errors against the first, timings";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j compare --weights W.safetensors [--format ...] --input X.npy [--lengths L.npy]
                                      [--h0 H.npy --c0 C.npy] [--batch-first] [--activations A,B,C] [--clip V]
                                      [--input-forget] [--grad-output G.npy] [--backends B:DTYPE,B:DTYPE,...]
                                      [--dtype float32|float64] [--forward-only] [--warmup N|auto] [--repeat N]
                                      [--tolerance TOL]
                                      [--report FILE.html]
                Runs forward and backward (the gradient of sum(output), or of <output, G>) on each backend in the
                list --backends gives and compares each with the first: for output, h_n, c_n and every gradient (each
                weight under the weight file's own names, input, h0, c0) it prints the max absolute error, the max
                relative error (max |a - b| / max |b|) and the tolerance, and the time each backend took.
                Exits with status 1 when any tensor is beyond its tolerance, 0 when all are within.
                """ + RunInputs.USAGE + """

                  --backends LIST           comma-separated BACKEND[:DTYPE], BACKEND one of auto, reference, cpu,
                                            cudnn, kernels, kernels-host; DTYPE float32 or float64 (default: --dtype).
                                            The first is the baseline. Default: reference:float64, then every other
                                            backend present that can run the spec in float32, then reference:float32.
                  --dtype D                 dtype for entries without one (default float32)
                  --forward-only            compare output, h_n, c_n only
                  --warmup N|auto           untimed runs of each backend before timing it; auto (the default):
                                            until the JIT has been quiet for half a second, at most 20 s
                  --repeat N                timed runs of each backend; the median is reported (default 1)
                  --tolerance TOL           hold every tensor to |a - b| <= TOL * (1 + |b|) instead of the model
                  --report FILE.html        also write the tables and timings as one HTML page
                Tolerances (unless --tolerance):
                """ + HelpText.wrap("", Tolerance.RULE + ".", "");
    }

    @Override
    public Set<String> booleanFlags() {
        return Set.of("batch-first", "input-forget", "forward-only");
    }

    record Target(String backend, DType dtype) {
        String label() {
            return backend + ":" + dtype.label();
        }
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws Exception {
        RunInputs.Spec spec = RunInputs.readOptions(args);
        DType defaultDType = ForwardCommand.parseDType(args.option("dtype", "float32"));
        String backends = args.option("backends", null);
        boolean backward = !args.flag("forward-only");
        WarmupPolicy warmup = WarmupPolicy.parse(args.option("warmup", "auto"));
        int repeat = args.intOption("repeat", 1);
        if (repeat < 1) {
            throw new UsageException("--repeat: expected >= 1, got " + repeat);
        }
        double fixedTol = args.doubleOption("tolerance", Double.NaN);
        if (args.has("tolerance") && !(fixedTol > 0 && Double.isFinite(fixedTol))) {
            throw new UsageException("--tolerance: expected a finite number > 0, got " + fixedTol);
        }
        Path report = args.pathOption("report", null);
        if (spec.gradOutput() != null && !backward) {
            throw new UsageException("--grad-output has no use with --forward-only");
        }
        args.finish();
        List<Target> explicit = backends == null ? null : parseTargets(backends, defaultDType);

        try (RunInputs in = RunInputs.load(spec)) {
            List<Target> targets = explicit != null ? explicit : defaultTargets(in.spec);
            out.println("weights:  " + in.weightsPath + " (" + in.weights.format() + ") -> " + in.spec);
            out.println("inputs:   T=" + in.seqLength() + ", B=" + in.batch()
                    + (in.lengths != null ? ", variable lengths" : "") + (in.h0 != null ? ", given h0/c0" : "")
                    + (backward ? "; gradients of " + in.lossDescription() : "; forward only"));
            List<BackendRun> runs = new ArrayList<>();
            try {
                for (Target t : targets) {
                    runs.add(BackendRun.run(in, t.backend, t.dtype, backward, warmup, repeat));
                }
                List<Comparison> comparisons = new ArrayList<>();
                BackendRun base = runs.getFirst();
                for (BackendRun r : runs.subList(1, runs.size())) {
                    Tolerance tol = Double.isNaN(fixedTol)
                            ? Tolerance.of(in.spec, in.seqLength(), in.batch(), base.dtype, r.dtype)
                            : Tolerance.fixed(fixedTol);
                    comparisons.add(Comparison.of(r, base, tol));
                }
                printTimings(out, runs, backward, warmup, repeat);
                for (Comparison c : comparisons) {
                    printTable(out, c);
                }
                long failures = comparisons.stream().mapToLong(Comparison::failures).sum();
                long total = comparisons.stream().mapToLong(c -> c.rows().size()).sum();
                out.println();
                String rule = Double.isNaN(fixedTol)
                        ? Tolerance.RULE : "|a - b| <= " + fixedTol + " * (1 + |b|) (--tolerance)";
                out.println("tolerance: " + rule);
                String verdict = failures == 0
                        ? "all " + total + " tensor comparisons within tolerance"
                        : failures + " of " + total + " tensor comparisons BEYOND tolerance";
                out.println("result:   " + verdict);
                if (report != null) {
                    Path parent = report.toAbsolutePath().getParent();
                    if (parent != null) Files.createDirectories(parent);
                    Files.writeString(report, HtmlReport.render(in, runs, comparisons, backward, warmup,
                            timingNote(warmup, repeat), rule, verdict));
                    out.println("report:   " + report);
                }
                return failures == 0 ? 0 : 1;
            } finally {
                for (BackendRun r : runs) r.close();
            }
        }
    }

    static String timingNote(WarmupPolicy warmup, int repeat) {
        return (repeat == 1 ? "times of one run" : "median times of " + repeat + " runs") + " after "
                + warmup.describe();
    }

    static List<Target> parseTargets(String text, DType defaultDType) {
        List<Target> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                throw new UsageException("--backends: empty entry in '" + text + "'");
            }
            int colon = p.indexOf(':');
            String backend = colon < 0 ? p : p.substring(0, colon);
            DType dtype;
            try {
                dtype = colon < 0 ? defaultDType : DType.parse(p.substring(colon + 1));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--backends: entry '" + p + "': " + e.getMessage());
            }
            if (!backend.equalsIgnoreCase("auto")) {
                try {
                    backend = BackendKind.parse(backend).label();
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--backends: " + e.getMessage());
                }
            }
            out.add(new Target(backend.toLowerCase(Locale.ROOT), dtype));
        }
        if (out.size() < 2) {
            throw new UsageException("--backends: expected at least two entries to compare, got '" + text + "'");
        }
        return out;
    }

    /** reference:float64 first, every other backend present that can run the spec in float32, reference:float32. */
    static List<Target> defaultTargets(LstmSpec spec) {
        List<Target> out = new ArrayList<>();
        out.add(new Target(BackendKind.REFERENCE.label(), DType.FLOAT64));
        for (LstmBackendProvider p : Dispatcher.discover().providers()) {
            if (p.kind() == BackendKind.REFERENCE || p.kind() == BackendKind.HOST_KERNELS) continue;
            if (p.availability().available() && p.unsupportedReason(spec, DType.FLOAT32).isEmpty()) {
                out.add(new Target(p.kind().label(), DType.FLOAT32));
            }
        }
        out.add(new Target(BackendKind.REFERENCE.label(), DType.FLOAT32));
        return out;
    }

    private static void printTimings(PrintStream out, List<BackendRun> runs, boolean backward, WarmupPolicy warmup,
                                     int repeat) {
        out.println();
        out.printf("%-22s %12s %12s  %-32s %s%n", "backend", "forward ms", backward ? "backward ms" : "", "warm-up",
                "picked");
        for (BackendRun r : runs) {
            out.printf("%-22s %12.2f %12s  %-32s %s%n", r.label() + (r == runs.getFirst() ? " *" : ""), r.forwardMs,
                    backward ? String.format(Locale.ROOT, "%.2f", r.backwardMs) : "", warmup.describe(r.warmup),
                    r.choice);
        }
        out.println("(* baseline; " + timingNote(warmup, repeat) + ")");
    }

    private static void printTable(PrintStream out, Comparison c) {
        out.println();
        out.println(c.candidate().label() + " vs " + c.baseline().label());
        out.printf("  %-28s %-16s %12s %12s %12s  %s%n", "tensor", "shape", "max abs err", "max rel err", "tolerance", "");
        for (Comparison.Row r : c.rows()) {
            out.printf(Locale.ROOT, "  %-28s %-16s %12.3e %12.3e %12.3e  %s%n", r.tensor(), r.shape(), r.maxAbs(),
                    r.maxRel(), r.tolerance(), r.passes() ? "ok" : "BEYOND");
        }
    }
}
