package dev.lstm4j.libtorch;

import static org.bytedeco.pytorch.global.torch.get_parallel_info;
import static org.bytedeco.pytorch.global.torch.hasMKLDNN;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link TorchLstmBenchmark} under JMH for every (workload, mode, thread count) asked for, prints the medians
 * and writes them as CSV. Started by benchmarks/libtorch/run:
 *
 * <pre>
 * benchmarks/libtorch/run [--workloads all|NAME,...] [--modes inference,training] [--threads N,...] [--csv FILE]
 *                         [--warmup N] [--iterations N] [--iteration-seconds S] [--forks N]
 * benchmarks/libtorch/run --probe
 * </pre>
 */
public final class TorchSuite {
    /** libtorch's version, from the presets jar's Maven metadata ("2.10.0-1.5.13" gives "2.10.0"). */
    static final String TORCH_VERSION = presetsVersion().replaceFirst("-[0-9.]+$", "");
    private static final String USAGE = """
            usage: benchmarks/libtorch/run [--workloads all|NAME,...] [--modes inference,training] [--threads N,...]
                                           [--csv FILE] [--warmup N] [--iterations N] [--iteration-seconds S]
                                           [--forks N]
                   benchmarks/libtorch/run --probe
              --workloads  default seed-mnist,ptb-small,ptb-medium,large-batch; all = every workload PyTorch can run
              --modes      default inference,training
              --threads    default every core (%d here)
              --csv        default target/benchmarks/libtorch.csv; columns
                           workload,mode,threads,median_ms,min_ms,gflops,samples,torch_version
              --warmup 5 --iterations 5 --iteration-seconds 2 --forks 1: JMH's, as lstm4j's suite (benchmarks/run)
              --probe      prints libtorch's build and threading, and runs one step of each mode on a tiny LSTM
                           (with ONEDNN_VERBOSE=1 in the environment, oneDNN names the implementation it ran)
            """;

    /** The settings of one run. */
    record Settings(List<Workload> workloads, List<Boolean> trainingModes, List<Integer> threads, Path csv,
                    int warmup, int iterations, double iterationSeconds, int forks) {}

    /** One case's figures. */
    record Result(Workload workload, boolean training, int threads, double medianMs, double minMs, long samples) {
        double gflops() {
            return workload.flops(training) / (medianMs * 1e-3) / 1e9;
        }
    }

    private TorchSuite() {}

    private static String presetsVersion() {
        try (var in = TorchSuite.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.bytedeco/pytorch/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String modeName(boolean training) {
        return training ? "training" : "inference";
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length == 1 && argv[0].equals("--probe")) {
            probe(System.out);
            return;
        }
        Settings s;
        try {
            s = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("benchmarks/libtorch/run: " + e.getMessage());
            System.err.print(usage());
            System.exit(2);
            return;
        }
        List<Result> results = run(s, System.err);
        System.out.print(table(results));
        writeCsv(results, s.csv());
        System.err.println("wrote " + s.csv());
    }

    static boolean parseMode(String mode) {
        return switch (mode) {
            case "inference" -> false;
            case "training" -> true;
            default -> throw new IllegalArgumentException("mode: expected inference or training, got '" + mode + "'");
        };
    }

    static String usage() {
        return String.format(Locale.ROOT, USAGE, Runtime.getRuntime().availableProcessors());
    }

    static Settings parse(String[] argv) {
        List<Workload> workloads = Workload.DEFAULT.stream().map(Workload::byName).toList();
        List<Boolean> modes = List.of(false, true);
        List<Integer> threads = List.of(Runtime.getRuntime().availableProcessors());
        Path csv = Path.of("target", "benchmarks", "libtorch.csv");
        int warmup = 5;
        int iterations = 5;
        double seconds = 2;
        int forks = 1;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.print(usage());
                System.exit(0);
            }
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(a + ": expected a value after it");
            }
            String v = argv[++i];
            switch (a) {
                case "--workloads" -> workloads = v.equals("all") ? Workload.SUITE
                        : splitList(v).stream().map(Workload::byName).toList();
                case "--modes" -> modes = splitList(v).stream().map(TorchSuite::parseMode).toList();
                case "--threads" -> threads = splitList(v).stream().map(t -> positive("--threads", t)).toList();
                case "--csv" -> csv = Path.of(v);
                case "--warmup" -> warmup = positive("--warmup", v);
                case "--iterations" -> iterations = positive("--iterations", v);
                case "--iteration-seconds" -> seconds = positiveSeconds(v);
                case "--forks" -> forks = positive("--forks", v);
                default -> throw new IllegalArgumentException("unknown option '" + a + "'");
            }
        }
        return new Settings(workloads, modes, threads, csv, warmup, iterations, seconds, forks);
    }

    /** Runs every case; JMH's output and the progress go to log. */
    static List<Result> run(Settings s, PrintStream log) throws RunnerException {
        List<Result> results = new ArrayList<>();
        int total = s.workloads().size() * s.trainingModes().size() * s.threads().size();
        int i = 0;
        for (Workload w : s.workloads()) {
            for (boolean training : s.trainingModes()) {
                for (int t : s.threads()) {
                    String mode = modeName(training);
                    log.printf("[%d/%d] %s %s libtorch threads=%d%n", ++i, total, w.name(), mode, t);
                    TimeValue iteration = TimeValue.milliseconds((long) (s.iterationSeconds() * 1000));
                    RunResult r = new Runner(new OptionsBuilder()
                            .include(TorchLstmBenchmark.class.getName() + ".step")
                            .param("workload", w.name())
                            .param("mode", mode)
                            .param("threads", Integer.toString(t))
                            .warmupIterations(s.warmup())
                            .warmupTime(iteration)
                            .measurementIterations(s.iterations())
                            .measurementTime(iteration)
                            .forks(s.forks())
                            .verbosity(VerboseMode.NORMAL)
                            .build()).runSingle();
                    var stats = r.getPrimaryResult().getStatistics();
                    results.add(new Result(w, training, t, stats.getPercentile(50.0), stats.getMin(), stats.getN()));
                }
            }
        }
        return results;
    }

    static String table(List<Result> results) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-26s %-10s %7s %10s %9s %8s %6s%n",
                "workload", "mode", "threads", "median ms", "min ms", "GFLOP/s", "n"));
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "%-26s %-10s %7d %10.3f %9.3f %8.1f %6d%n", r.workload().name(),
                    modeName(r.training()), r.threads(), r.medianMs(), r.minMs(), r.gflops(), r.samples()));
        }
        return b.toString();
    }

    static void writeCsv(List<Result> results, Path csv) throws IOException {
        StringBuilder b = new StringBuilder("workload,mode,threads,median_ms,min_ms,gflops,samples,torch_version\n");
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "%s,%s,%d,%.4f,%.4f,%.2f,%d,%s%n", r.workload().name(),
                    modeName(r.training()), r.threads(), r.medianMs(), r.minMs(), r.gflops(), r.samples(),
                    TORCH_VERSION));
        }
        if (csv.getParent() != null) {
            Files.createDirectories(csv.getParent());
        }
        Files.writeString(csv, b.toString());
    }

    /** libtorch's build and threading, then one step of each mode on the tiny workload. */
    static void probe(PrintStream out) {
        out.println("libtorch " + TORCH_VERSION + " (org.bytedeco:pytorch), oneDNN (MKLDNN) built in: " + hasMKLDNN());
        out.print(get_parallel_info().getString());
        for (boolean training : List.of(false, true)) {
            try (TorchLstmCase c = new TorchLstmCase(Workload.byName("tiny"), training, 1)) {
                out.printf(Locale.ROOT, "tiny %s: one step ran, first value %.6f%n",
                        modeName(training), c.step());
            }
        }
    }

    private static List<String> splitList(String v) {
        List<String> items = List.of(v.split(","));
        if (items.isEmpty() || items.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("expected a comma-separated list, got '" + v + "'");
        }
        return items;
    }

    private static int positive(String option, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + ": expected a whole number >= 1, got '" + v + "'");
    }

    private static double positiveSeconds(String v) {
        try {
            double s = Double.parseDouble(v);
            if (s > 0) {
                return s;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--iteration-seconds: expected a number of seconds > 0, got '" + v + "'");
    }
}
