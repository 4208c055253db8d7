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
 * keeps OpenBLAS single-threaded, so no more threads than that ever compute for it. Per-step GEMMs: likewise the
 * constructor, else {@value #GEMM_PROPERTY}, else {@link RecurrentGemm#PACKED}. To give one layer its own setting,
 * pass {@code Dispatcher(List.of(new FastCpuProvider(n), ...))} to {@code Lstm.builder(..).dispatcher}.
 */
public final class FastCpuProvider implements LstmBackendProvider {
    public static final String THREADS_PROPERTY = "lstm4j.cpu.threads";
    /** "packed" (the default) or "blas": see {@link RecurrentGemm}. */
    public static final String GEMM_PROPERTY = "lstm4j.cpu.gemm";

    private final int threads;          // 0: decide at create()
    private final RecurrentGemm gemm;   // null: decide at create()

    /**
     * The ServiceLoader's constructor: threads from {@value #THREADS_PROPERTY} or every core, per-step GEMMs from
     * {@value #GEMM_PROPERTY} or packed.
     */
    public FastCpuProvider() {
        this.threads = 0;
        this.gemm = null;
    }

    public FastCpuProvider(int threads) {
        this(threads, null);
    }

    /** @param gemm where the per-step GEMMs run; null for {@value #GEMM_PROPERTY} or packed */
    public FastCpuProvider(int threads, RecurrentGemm gemm) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        this.threads = threads;
        this.gemm = gemm;
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
        return new FastCpuBackend(spec, threads > 0 ? threads : defaultThreads(), gemm != null ? gemm : defaultGemm());
    }

    /** {@value #GEMM_PROPERTY} if set, else packed. */
    public static RecurrentGemm defaultGemm() {
        String v = System.getProperty(GEMM_PROPERTY);
        return v == null || v.isBlank() ? RecurrentGemm.PACKED : RecurrentGemm.parse(v);
    }

    /**
     * What a backend of the default provider runs with on this JVM, for {@code lstm4j info} and benchmark reports:
     * its threads, where its per-step GEMMs run (the packed kernel only where the Vector API's vectors hold 8 floats
     * or more, with this machine's slabs of k; OpenBLAS otherwise, whatever {@value #GEMM_PROPERTY} asks for) and
     * OpenBLAS's kernels.
     */
    public static String defaultSettings() {
        String gemms;
        if (defaultGemm() == RecurrentGemm.BLAS) {
            gemms = "per-step GEMMs on OpenBLAS, as " + GEMM_PROPERTY + "=blas asks";
        } else if (PackedGemm.USABLE) {
            gemms = "per-step GEMMs on the packed kernel, " + PackedGemm.LANES + "-float vectors in "
                    + PackedGemm.blockSetting() + ", " + PackedGemm.slabSetting();
        } else {
            gemms = "per-step GEMMs on OpenBLAS, as the packed kernel needs vectors of 8 floats or more and this JVM's"
                    + " hold " + PackedGemm.LANES;
        }
        String blas = OpenBlas.isLoaded() ? "OpenBLAS kernels " + OpenBlas.coreName() + coreTypeSetting()
                : "OpenBLAS not loaded";
        int threads = defaultThreads();
        return threads + (threads == 1 ? " thread; " : " threads; ") + gemms + "; " + blas;
    }

    /**
     * Where the environment chose OpenBLAS's kernels (OPENBLAS_CORETYPE, which OpenBLAS reads when it loads), a note
     * that says so: the kernels named then are not OpenBLAS's pick for this CPU (some machines set Haswell's AVX2
     * kernels on AVX-512 cores, where older OpenBLAS builds went wrong).
     */
    private static String coreTypeSetting() {
        String set = System.getenv("OPENBLAS_CORETYPE");
        return set == null || set.isBlank() ? "" : " (OPENBLAS_CORETYPE=" + set.strip() + " in the environment)";
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
