package dev.lstm4j.cli;

import dev.lstm4j.bench.BenchMode;
import dev.lstm4j.bench.BenchPlan;
import dev.lstm4j.bench.BenchReport;
import dev.lstm4j.bench.BenchResult;
import dev.lstm4j.bench.QuickBench;
import dev.lstm4j.bench.Workload;
import dev.lstm4j.lstm.BackendKind;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code lstm4j bench}: a short version of the benchmark suite (same workloads, backends, modes and thread counts as
 * the JMH suite in benchmarks/, without JMH's forks and iteration counts), for a first look. Table on stdout,
 * progress on stderr, and optionally CSV/JSON/HTML files.
 */
final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "time the LSTM backends on the standard workloads (a short run; the JMH suite is benchmarks/run)";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j bench [--quick] [--workloads all|NAME,...] [--backends all|cpu,reference,...]
                                    [--modes all|inference,training,serving] [--threads 1,all] [--seconds S]
                                    [--out DIR]
                Times one step (inference: a forward pass; training: forward + backward of every gradient;
                serving, not in "all": a forward pass on frozen parameters, see LstmParams.freeze) of
                each workload on each backend present, float32, and prints median ms per step and GFLOP/s
                (forward = 2*4H*(I+H)*B*T per layer and direction, training = 3x forward).
                  --quick        0.6 s of timed steps per case (default: 3 s), after a warm-up that lasts
                                 until the JIT has gone quiet (half a second without a compilation; at most
                                 30 s a case, usually a few seconds for the first case and less after it)
                %s
                  --backends     default all present here; the reference runs only on the small workloads
                  --threads      CPU backend thread counts, default 1,all (all = %d cores here)
                  --seconds S    seconds of timed steps per case (overrides --quick)
                  --out DIR      also write DIR/results.csv, results.json and results.html (an SVG bar chart)
                This is a first look: one JVM, no isolation from other processes. For figures to publish, run
                the JMH suite: benchmarks/run (see benchmarks/README.md).""".formatted(
                HelpText.wrap("  --workloads    ", "default all: "
                        + String.join(", ", Workload.suite().stream().map(Workload::name).toList())
                        + " (and ptb-medium-b1, one row; tiny, for tests)", " ".repeat(17)),
                Runtime.getRuntime().availableProcessors());
    }

    @Override
    public Set<String> booleanFlags() {
        return Set.of("quick");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws Exception {
        boolean quick = args.flag("quick");
        List<Workload> workloads = BenchPlan.parseWorkloads(args.option("workloads", "all"));
        List<BackendKind> backends = BenchPlan.parseBackends(args.option("backends", "all"));
        List<BenchMode> modes = BenchPlan.parseModes(args.option("modes", "all"));
        List<Integer> threads = BenchPlan.parseThreads(args.option("threads", "1,all"));
        double seconds = args.doubleOption("seconds", quick ? 0.6 : 3.0);
        Path outDir = args.pathOption("out", null);
        args.finish();
        if (!(seconds > 0)) {
            throw new UsageException("--seconds: expected > 0, got " + seconds);
        }
        List<BackendKind> present = BenchPlan.presentBackends();
        for (BackendKind b : backends) {
            if (!present.contains(b)) {
                throw new UsageException("--backends: " + b.label() + " is not available here (present: "
                        + present.stream().map(BackendKind::label).toList() + ")");
            }
        }
        List<BenchPlan.Case> cases = BenchPlan.cases(workloads, backends, modes, threads);
        if (cases.isEmpty()) {
            throw new UsageException("nothing to run: the reference runs only on small workloads (seed-mnist, "
                    + "ptb-small, tiny), and no other backend was chosen");
        }
        String conditions = BenchReport.machineConditions();
        err.println("lstm4j bench: " + cases.size() + " cases, " + seconds + " s each; " + conditions);
        List<BenchResult> results = new QuickBench(seconds, quick ? 15 : 60).run(cases, err);
        BenchReport report = new BenchReport(results, conditions + "; load average " + String.format(
                java.util.Locale.ROOT, "%.2f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())
                + " at the end; lstm4j bench" + (quick ? " --quick" : ""));
        out.print(report.table());
        if (outDir != null) {
            Path html = report.writeAll(outDir, "lstm4j bench");
            err.println("lstm4j bench: wrote " + outDir.resolve("results.csv") + ", results.json and " + html);
        }
        return 0;
    }
}
