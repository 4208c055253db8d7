package dev.lstm4j.cpu;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;

/**
 * Provides {@link FastCpuBackend}: every spec, float32 only, wherever OpenBLAS loads.
 *
 * <p>Thread count: the constructor argument, else the system property {@value #THREADS_PROPERTY}, else every core
 * ({@link Runtime#availableProcessors()}). The backend runs all its parallel work on that many threads of its own and
 * keeps OpenBLAS single-threaded, so no more threads than that ever compute for it. To give one layer
 * its own setting, pass {@code Dispatcher(List.of(new FastCpuProvider(n), ...))} to {@code Lstm.builder(..).dispatcher}.
 */
public final class FastCpuProvider implements LstmBackendProvider {
    public static final String THREADS_PROPERTY = "lstm4j.cpu.threads";

    private final int threads; // 0: decide at create()

    /** The ServiceLoader's constructor: threads from {@value #THREADS_PROPERTY} or every core. */
    public FastCpuProvider() {
        this.threads = 0;
    }

    public FastCpuProvider(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        this.threads = threads;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public Availability availability() {
        return OpenBlas.loadFailure().map(Availability::failed).orElseGet(Availability::yes);
    }

    @Override
    public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        if (dtype != DType.FLOAT32) {
            return Optional.of("the fast CPU backend computes in float32 only, got " + dtype
                    + " (the reference runs float64)");
        }
        return Optional.empty();
    }

    @Override
    public LstmBackend create(LstmSpec spec, DType dtype) {
        unsupportedReason(spec, dtype).ifPresent(why -> {
            throw new IllegalArgumentException("dtype: " + why);
        });
        return new FastCpuBackend(spec, threads > 0 ? threads : defaultThreads());
    }

    /** {@value #THREADS_PROPERTY} if set, else the number of cores. */
    public static int defaultThreads() {
        String v = System.getProperty(THREADS_PROPERTY);
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(THREADS_PROPERTY + ": expected an integer >= 1, got '" + v + "'");
    }
}
