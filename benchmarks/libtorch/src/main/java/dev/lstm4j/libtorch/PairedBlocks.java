package dev.lstm4j.libtorch;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * lstm4j's fast CPU backend and libtorch in one JVM, in alternating blocks of a second: the comparison that the
 * VM's changes of speed (up to 30 % for seconds at a time) do not reach, as both sides of a pair see the same
 * seconds. Not a JMH benchmark: JMH times one side per fork. Started by {@code benchmarks/libtorch/run --paired}.
 *
 * <p>lstm4j is reached by reflection ({@code dev.lstm4j.bench.BenchCase}, as its JMH suite times it), as this project
 * does not build against it: its classes come on the class path from lstm4j's own build, and its OpenBLAS from this
 * project's JavaCPP 1.5.13 presets.
 */
public final class PairedBlocks {
    private static final String USAGE = """
            usage: benchmarks/libtorch/run --paired WORKLOAD MODE [--threads N] [--pairs N] [--block-seconds S]
              MODE: inference, training, or serving (lstm4j's frozen parameters against PyTorch's inference)
              --threads every core; --pairs 16; --block-seconds 1 (the first tenth of each block untimed); 8 s of
              warm-up for each side first
            """;

    private PairedBlocks() {}

    public static void main(String[] argv) throws Exception {
        try {
            run(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("benchmarks/libtorch/run --paired: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
        }
    }

    private static void run(String[] argv) throws Exception {
        if (argv.length < 2) {
            throw new IllegalArgumentException("expected a workload and a mode, got " + argv.length + " arguments");
        }
        Workload workload = Workload.byName(argv[0]);
        String mode = argv[1];
        if (!List.of("inference", "training", "serving").contains(mode)) {
            throw new IllegalArgumentException("mode: expected inference, training or serving, got '" + mode + "'");
        }
        int threads = Runtime.getRuntime().availableProcessors();
        int pairs = 16;
        double seconds = 1;
        for (int i = 2; i + 1 < argv.length; i += 2) {
            try {
                switch (argv[i]) {
                    case "--threads" -> threads = Integer.parseInt(argv[i + 1]);
                    case "--pairs" -> pairs = Integer.parseInt(argv[i + 1]);
                    case "--block-seconds" -> seconds = Double.parseDouble(argv[i + 1]);
                    default -> throw new IllegalArgumentException("unknown option '" + argv[i] + "'");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(argv[i] + ": expected a number, got '" + argv[i + 1] + "'");
            }
        }
        if (threads < 1 || pairs < 2 || !(seconds > 0) || argv.length % 2 != 0) {
            throw new IllegalArgumentException("expected --threads >= 1, --pairs >= 2, --block-seconds > 0, "
                    + "each with a value; got " + String.join(" ", argv));
        }
        try (Lstm4jCase ours = new Lstm4jCase(workload.name(), mode, threads);
             TorchLstmCase torch = new TorchLstmCase(workload, mode.equals("training"), threads)) {
            Runnable lstm4jStep = ours::step;
            Runnable torchStep = torch::step;
            block(lstm4jStep, 8);
            block(torchStep, 8);
            double[] lstm4j = new double[pairs];
            double[] pytorch = new double[pairs];
            double[] ratio = new double[pairs];
            for (int p = 0; p < pairs; p++) {
                lstm4j[p] = block(lstm4jStep, seconds);
                pytorch[p] = block(torchStep, seconds);
                ratio[p] = lstm4j[p] / pytorch[p];
                System.out.printf(Locale.ROOT, "pair %2d: lstm4j %.3f ms, PyTorch %.3f ms, ratio %.3f%n", p,
                        lstm4j[p], pytorch[p], ratio[p]);
            }
            Arrays.sort(lstm4j);
            Arrays.sort(pytorch);
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "%s %s, %d thread%s, %d pairs of %.3g s blocks: lstm4j %.3f ms (best %.3f), "
                            + "PyTorch %s %.3f ms (best %.3f); lstm4j / PyTorch %.3f (quartiles %.3f-%.3f)%n",
                    workload.name(), mode, threads, threads == 1 ? "" : "s", pairs, seconds, median(lstm4j), lstm4j[0],
                    TorchSuite.TORCH_VERSION, median(pytorch), pytorch[0], median(ratio), ratio[pairs / 4],
                    ratio[(3 * pairs) / 4]);
        }
    }

    /** Runs steps for the given seconds and returns the median ms of those started after the first tenth. */
    static double block(Runnable step, double seconds) {
        List<Double> ms = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long timedFrom = start + (long) (seconds * 1e8);
        while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end && !ms.isEmpty()) {
                break;
            }
            step.run();
            if (t0 >= timedFrom) {
                ms.add((System.nanoTime() - t0) / 1e6);
            }
        }
        Collections.sort(ms);
        return ms.get(ms.size() / 2);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** lstm4j's {@code BenchCase} on its fast CPU backend, through reflection. */
    private static final class Lstm4jCase implements AutoCloseable {
        private final Object benchCase;
        private final Method step;
        private final Method close;

        Lstm4jCase(String workload, String mode, int threads) throws ReflectiveOperationException {
            Class<?> workloads = Class.forName("dev.lstm4j.bench.Workload");
            Class<?> backends = Class.forName("dev.lstm4j.lstm.BackendKind");
            Class<?> modes = Class.forName("dev.lstm4j.bench.BenchMode");
            Class<?> cases = Class.forName("dev.lstm4j.bench.BenchCase");
            Object w = workloads.getMethod("byName", String.class).invoke(null, workload);
            Object cpu = backends.getField("CPU").get(null);
            Object m = modes.getField(mode.toUpperCase(Locale.ROOT)).get(null);
            Constructor<?> make = cases.getConstructor(workloads, backends, modes, int.class);
            this.benchCase = make.newInstance(w, cpu, m, threads);
            this.step = cases.getMethod("step");
            this.close = cases.getMethod("close");
        }

        void step() {
            try {
                step.invoke(benchCase);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("lstm4j's BenchCase.step failed: " + e.getCause(), e);
            }
        }

        @Override
        public void close() throws ReflectiveOperationException {
            close.invoke(benchCase);
        }
    }
}
