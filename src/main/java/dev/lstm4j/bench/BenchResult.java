package dev.lstm4j.bench;

/**
 * One measured combination.
 *
 * @param medianMs median wall time of one step (a forward pass, or forward + backward), milliseconds
 * @param gflops   {@link Workload#flops(BenchMode)} / median time, in GFLOP/s
 * @param samples  number of timed steps the median is taken over
 */
public record BenchResult(Workload workload, String backend, BenchMode mode, int threads, double medianMs,
                          double minMs, double gflops, int samples) {

    public static BenchResult of(Workload w, String backend, BenchMode mode, int threads, double medianMs,
                                 double minMs, int samples) {
        return new BenchResult(w, backend, mode, threads, medianMs, minMs, w.flops(mode) / (medianMs * 1e6), samples);
    }
}
