package dev.lstm4j.bench;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.tensor.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * Which combinations a benchmark run measures: every requested workload x backend x mode x thread count, except that
 * the slow backends (the plain-Java reference and the host build of the kernels) run only on the small workloads,
 * and backends whose speed does not depend on our CPU threads (the reference, GPU backends) run once, at 1 thread.
 */
public final class BenchPlan {
    private BenchPlan() {}

    public record Case(Workload workload, BackendKind backend, BenchMode mode, int threads) {}

    /** The backends present and able to run float32 here, in dispatch order. */
    public static List<BackendKind> presentBackends() {
        List<BackendKind> kinds = new ArrayList<>();
        for (LstmBackendProvider p : Dispatcher.discover().providers()) {
            if (p.availability().available() && p.unsupportedReason(Workload.TINY.spec(), DType.FLOAT32).isEmpty()) {
                kinds.add(p.kind());
            }
        }
        return kinds;
    }

    public static List<Case> cases(List<Workload> workloads, List<BackendKind> backends, List<BenchMode> modes,
                                   List<Integer> threads) {
        List<Case> cases = new ArrayList<>();
        for (Workload w : workloads) {
            for (BenchMode m : modes) {
                for (BackendKind b : backends) {
                    if (slow(b) && !w.small()) {
                        continue;
                    }
                    if (b == BackendKind.CPU) {
                        for (int t : threads) cases.add(new Case(w, b, m, t));
                    } else {
                        cases.add(new Case(w, b, m, 1));
                    }
                }
            }
        }
        return cases;
    }

    static boolean slow(BackendKind b) {
        return b == BackendKind.REFERENCE || b == BackendKind.HOST_KERNELS;
    }

    /** "1,all" or "1,2,4": "all" is every core. */
    public static List<Integer> parseThreads(String s) {
        List<Integer> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.strip();
            if (p.equals("all")) {
                out.add(Runtime.getRuntime().availableProcessors());
                continue;
            }
            try {
                int n = Integer.parseInt(p);
                if (n < 1) throw new NumberFormatException();
                out.add(n);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("threads: expected a comma-separated list of integers >= 1 or "
                        + "'all', got '" + s + "'");
            }
        }
        return List.copyOf(new java.util.LinkedHashSet<>(out));
    }

    public static List<Workload> parseWorkloads(String s) {
        if (s.equals("all")) return Workload.suite();
        List<Workload> out = new ArrayList<>();
        for (String part : s.split(",")) out.add(Workload.byName(part.strip()));
        return out;
    }

    public static List<BackendKind> parseBackends(String s) {
        if (s.equals("all")) return presentBackends();
        List<BackendKind> out = new ArrayList<>();
        for (String part : s.split(",")) out.add(BackendKind.parse(part.strip()));
        return out;
    }

    public static List<BenchMode> parseModes(String s) {
        if (s.equals("all")) return BenchMode.suite();
        List<BenchMode> out = new ArrayList<>();
        for (String part : s.split(",")) out.add(BenchMode.parse(part.strip()));
        return out;
    }
}
