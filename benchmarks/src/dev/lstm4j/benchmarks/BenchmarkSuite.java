package dev.lstm4j.benchmarks;

import dev.lstm4j.bench.BenchPlan;
import dev.lstm4j.bench.BenchReport;
import dev.lstm4j.bench.BenchResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link LstmBenchmark} under JMH for every case of a {@link BenchPlan} and writes results.csv, results.json
 * and results.html (SVG bar chart) plus JMH's own jmh.json per case. Started by benchmarks/run:
 *
 * <pre>
 * benchmarks/run [--workloads all|NAME,...] [--backends all|cpu,reference,...] [--modes all|inference,training,serving]
 *                [--threads 1,all] [--out DIR] [--warmup N] [--iterations N] [--iteration-seconds S] [--forks N]
 * </pre>
 */
public final class BenchmarkSuite {
    /** The settings of one suite run; {@link #defaults()} are the documented ones. */
    public record Settings(String workloads, String backends, String modes, String threads, Path out, int warmup,
                           int iterations, double iterationSeconds, int forks, VerboseMode verbose) {
        public static Settings defaults() {
            return new Settings("all", "all", "all", "1,all", Path.of("target", "benchmarks"), 5, 5, 2.0, 1,
                    VerboseMode.NORMAL);
        }
    }

    public static void main(String[] argv) throws Exception {
        Settings s = parse(argv);
        String conditions = BenchReport.machineConditions();
        List<BenchResult> results = run(s, System.err);
        BenchReport report = new BenchReport(results, conditions + "; load average " + String.format(
                java.util.Locale.ROOT, "%.2f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())
                + " at the end; JMH " + s.warmup() + " warm-up and " + s.iterations() + " measured iterations of "
                + s.iterationSeconds() + " s, " + s.forks() + " fork(s)");
        System.out.print(report.table());
        Path html = report.writeAll(s.out(), "lstm4j benchmarks (JMH)");
        System.err.println("wrote " + s.out().resolve("results.csv") + ", results.json and " + html);
    }

    /** Runs every case of the plan; progress and JMH's output go to {@code log}. */
    public static List<BenchResult> run(Settings s, PrintStream log) throws RunnerException, IOException {
        List<BenchPlan.Case> cases = BenchPlan.cases(BenchPlan.parseWorkloads(s.workloads()),
                BenchPlan.parseBackends(s.backends()), BenchPlan.parseModes(s.modes()),
                BenchPlan.parseThreads(s.threads()));
        java.nio.file.Files.createDirectories(s.out());
        List<BenchResult> results = new ArrayList<>();
        int i = 0;
        for (BenchPlan.Case c : cases) {
            i++;
            log.printf("[%d/%d] %s %s %s threads=%d%n", i, cases.size(), c.workload().name(), c.backend().label(),
                    c.mode(), c.threads());
            String id = String.format("%s-%s-%s-t%d", c.workload().name(), c.backend().label(), c.mode(),
                    c.threads());
            ChainedOptionsBuilder ob = new OptionsBuilder()
                    .include(LstmBenchmark.class.getName() + ".step")
                    .param("workload", c.workload().name())
                    .param("backend", c.backend().label())
                    .param("mode", c.mode().label())
                    .param("threads", Integer.toString(c.threads()))
                    .warmupIterations(s.warmup())
                    .warmupTime(TimeValue.milliseconds((long) (s.iterationSeconds() * 1000)))
                    .measurementIterations(s.iterations())
                    .measurementTime(TimeValue.milliseconds((long) (s.iterationSeconds() * 1000)))
                    .forks(s.forks())
                    .verbosity(s.verbose())
                    .resultFormat(ResultFormatType.JSON)
                    .result(s.out().resolve("jmh-" + id + ".json").toString());
            RunResult r = new Runner(ob.build()).runSingle();
            var stats = r.getPrimaryResult().getStatistics();
            results.add(BenchResult.of(c.workload(), c.backend().label(), c.mode(), c.threads(),
                    stats.getPercentile(50.0), stats.getMin(), (int) stats.getN()));
        }
        return results;
    }

    static Settings parse(String[] argv) {
        Settings d = Settings.defaults();
        String workloads = d.workloads(), backends = d.backends(), modes = d.modes(), threads = d.threads();
        Path out = d.out();
        int warmup = d.warmup(), iterations = d.iterations(), forks = d.forks();
        double seconds = d.iterationSeconds();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: benchmarks/run [--workloads all|NAME,...] [--backends all|cpu,...] "
                        + "[--modes all|inference,training,serving] [--threads 1,all] [--out DIR] [--warmup N] "
                        + "[--iterations N] [--iteration-seconds S] [--forks N]");
                System.exit(0);
            }
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(a + ": expected a value after it");
            }
            String v = argv[++i];
            switch (a) {
                case "--workloads" -> workloads = v;
                case "--backends" -> backends = v;
                case "--modes" -> modes = v;
                case "--threads" -> threads = v;
                case "--out" -> out = Path.of(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--iterations" -> iterations = Integer.parseInt(v);
                case "--iteration-seconds" -> seconds = Double.parseDouble(v);
                case "--forks" -> forks = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
            }
        }
        return new Settings(workloads, backends, modes, threads, out, warmup, iterations, seconds, forks,
                VerboseMode.NORMAL);
    }
}
