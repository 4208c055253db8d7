package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fast CPU backend's kernels alone, on one thread, with their operands in cache: the figures behind the kernel
 * changes in {@code benchmarks/cpu-performance-log.md}. In this package, since the kernels are package-private.
 * {@code benchmarks/kernels} runs it. Each score is the average time of one call (each benchmark runs over the
 * parameters of its own state only):
 * <ul>
 *   <li>{@code pointwiseForward}, {@code pointwiseBackward}: one step's pointwise work on {@code rows} rows of H
 *   ({@link FusedPointwise}; ns per cell = score / (rows * H)); forward in inference, or with {@code training} keeping
 *   the activations for backward as a training step does;</li>
 *   <li>{@code exp}: {@link VectorExp} over 8,192 floats (ns per element = score / 8192);</li>
 *   <li>{@code stepProduct}: the per-step product C = A B of {@code gemm}'s shape "m x k x n" on the packed kernel
 *   ({@link PackedGemm}, B packed beforehand; GFLOP/s = 2 m k n / score);</li>
 *   <li>{@code weightGradient}: a weight gradient C = S^T B of {@code gradient}'s shape "k x m x n", S packed into
 *   row blocks chunk by chunk as the backend does, then the packed kernel (GFLOP/s = 2 k m n / score).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class CpuKernelBenchmark {

    /** One step's pointwise operands for {@code rows} rows of H, with or without peepholes. */
    @State(Scope.Thread)
    public static class Rows {
        /** The hidden sizes of seed-mnist, ptb-small and ptb-medium. */
        @Param({"128", "200", "650"})
        public int hidden;

        @Param({"false", "true"})
        public boolean peepholes;

        /** Rows per step: a batch chunk of seed-mnist (128 rows on 2 threads). */
        @Param("64")
        public int rows;

        Arena arena;
        FusedPointwise pointwise;
        MemorySegment g; // [rows, 4H]
        MemorySegment bias; // [4H]
        MemorySegment peep; // [3H] or null
        MemorySegment cState; // [rows, H]
        MemorySegment cPrev; // [rows, H]
        MemorySegment c; // [rows, H]
        MemorySegment m; // [rows, H]
        MemorySegment h; // [rows, H]
        MemorySegment dm; // [rows, H]
        MemorySegment dc; // [rows, H]
        MemorySegment dPeep; // [3H]
        MemorySegment dA; // [rows, 4H]

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            SplittableRandom random = new SplittableRandom(7);
            pointwise = new FusedPointwise(LstmSpec.builder(hidden, hidden).peepholes(peepholes).build());
            long cells = (long) rows * hidden;
            // pre-activations of a trained LSTM's size: most gates away from saturation, some in it
            // forward's pre-activations; for backward, the activations as forward leaves them in training
            g = filled(4 * cells, random, 0.01, 0.99);
            bias = filled(4L * hidden, random, -0.5, 0.5);
            peep = peepholes ? filled(3L * hidden, random, -0.5, 0.5) : null;
            cState = filled(cells, random, -1, 1);
            cPrev = filled(cells, random, -1, 1);
            c = filled(cells, random, -1, 1);
            m = zeros(cells);
            h = zeros(cells);
            dm = filled(cells, random, -1, 1);
            dc = filled(cells, random, -1, 1);
            dPeep = zeros(3L * hidden);
            dA = zeros(4 * cells);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }

        private MemorySegment zeros(long floats) {
            return arena.allocate(floats * Float.BYTES, 64);
        }

        private MemorySegment filled(long floats, SplittableRandom random, double lo, double hi) {
            MemorySegment s = zeros(floats);
            for (long i = 0; i < floats; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble(lo, hi));
            }
            return s;
        }
    }

    /** {@link Rows} for forward, in inference or in training (the activations kept for backward). */
    @State(Scope.Thread)
    public static class ForwardRows extends Rows {
        @Param({"false", "true"})
        public boolean training;
    }

    /** Arguments for {@link VectorExp}: 8,192 floats in [-10, 10]. */
    @State(Scope.Thread)
    public static class ExpRow {
        final float[] arguments = new float[8192];
        final float[] row = new float[8192];

        @Setup(Level.Trial)
        public void setUp() {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < arguments.length; i++) arguments[i] = (float) random.nextDouble(-10, 10);
        }
    }

    /** A per-step product's operands: A [m, k] and B [k, n] packed. */
    @State(Scope.Thread)
    public static class Product {
        /** m x k x n: seed-mnist's fused step on one of 2 threads, ptb-medium's W_hh step, large-batch's on 1 of 2. */
        @Param({"64x156x512", "20x650x2592", "32x512x2048"})
        public String gemm;

        int m;
        int k;
        int n;
        float[] a; // [m, k]
        float[] packed; // B [k, n], packed
        Arena arena;
        MemorySegment c; // [m, n]

        @Setup(Level.Trial)
        public void setUp() {
            int[] shape = threeSizes("gemm", gemm, "m x k x n");
            m = shape[0];
            k = shape[1];
            n = shape[2];
            if (n % PackedGemm.NR != 0) {
                throw new IllegalArgumentException("gemm: expected m x k x n with n a multiple of " + PackedGemm.NR
                        + ", got " + gemm);
            }
            SplittableRandom random = new SplittableRandom(7);
            a = new float[m * k];
            for (int i = 0; i < a.length; i++) a[i] = (float) random.nextDouble(-1, 1);
            packed = new float[PackedGemm.packedSize(k, n)];
            for (int i = 0; i < packed.length; i++) packed[i] = (float) random.nextDouble(-1, 1);
            arena = Arena.ofShared();
            c = arena.allocate((long) m * n * Float.BYTES, 64);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /**
     * A weight gradient's operands: S = dA [k, m] (k = T*B rows of the sequence) and B [k, n] packed, for C [m, n] =
     * S^T B.
     */
    @State(Scope.Thread)
    public static class Gradient {
        /**
         * k x m x n: seed-mnist's dW = dA^T [x h] on one of 2 threads (256 of 4H = 512 rows; n = I + H = 156 taken
         * up to whole panels), ptb-small's for one layer on one of 2 threads.
         */
        @Param({"3584x256x160", "400x400x416"})
        public String gradient;

        int k;
        int m;
        int n;
        Arena arena;
        MemorySegment s; // [k, m]
        float[] packed; // B [k, n], packed
        float[] buffer;
        MemorySegment c; // [m, n]

        @Setup(Level.Trial)
        public void setUp() {
            int[] shape = threeSizes("gradient", gradient, "k x m x n");
            k = shape[0];
            m = shape[1];
            n = shape[2];
            if (m % PackedGemm.MR != 0 || n % PackedGemm.NR != 0) {
                throw new IllegalArgumentException("gradient: expected k x m x n with m a multiple of "
                        + PackedGemm.MR + " and n of " + PackedGemm.NR + ", got " + gradient);
            }
            SplittableRandom random = new SplittableRandom(7);
            arena = Arena.ofShared();
            s = arena.allocate((long) k * m * Float.BYTES, 64);
            for (long i = 0; i < (long) k * m; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble(-1, 1));
            }
            packed = new float[PackedGemm.coveredSize(k, n)];
            for (int i = 0; i < packed.length; i++) packed[i] = (float) random.nextDouble(-1, 1);
            buffer = new float[PackedGemm.transposedBufferSize(k)];
            c = arena.allocate((long) m * n * Float.BYTES, 64);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** The three positive sizes of a shape parameter such as "64x156x512" ({@code form} names them). */
    static int[] threeSizes(String param, String value, String form) {
        String[] parts = value.split("x");
        int[] sizes = new int[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) sizes[i] = Integer.parseInt(parts[i].strip());
        } catch (NumberFormatException e) {
            sizes = new int[0];
        }
        if (sizes.length != 3 || Math.min(sizes[0], Math.min(sizes[1], sizes[2])) < 1) {
            throw new IllegalArgumentException(param + ": expected " + form + " (three positive sizes), got " + value);
        }
        return sizes;
    }

    /**
     * Forward of one step. Its inputs evolve from call to call as a recurrence's do from step to step: c, and in
     * training the gates, which forward overwrites with their activations (values in (-1, 1), as good pre-activations
     * as any: the kernels' work does not depend on the values).
     */
    @Benchmark
    public MemorySegment pointwiseForward(ForwardRows r) {
        r.pointwise.forward(r.rows, r.g, 0, r.bias, r.peep, r.cState, r.training ? r.cPrev : null, 0,
                r.training ? r.c : null, null, 0, r.m, 0, r.hidden, r.h, 0, null, 0);
        return r.m;
    }

    /** Backward of one step from fixed activations; its dc out is the next call's dc in. */
    @Benchmark
    public MemorySegment pointwiseBackward(Rows r) {
        r.pointwise.backward(r.rows, r.dm, 0, r.hidden, r.dc, r.g, 0, r.cPrev, r.c, null, 0, r.peep, r.dPeep, 0,
                r.dA, 0, null, 0);
        return r.dA;
    }

    @Benchmark
    public float[] exp(ExpRow e) {
        System.arraycopy(e.arguments, 0, e.row, 0, e.row.length);
        VectorExp.inPlace(e.row, 0, e.row.length);
        return e.row;
    }

    @Benchmark
    public MemorySegment stepProduct(Product p) {
        PackedGemm.multiply(p.m, p.n, p.k, p.a, 0, p.k, p.packed, false, p.c, 0, p.n, 0, PackedGemm.panels(p.n));
        return p.c;
    }

    /** C = S^T B as the weight gradients run it: S's chunks packed into row blocks, then the packed kernel. */
    @Benchmark
    public MemorySegment weightGradient(Gradient g) {
        PackedGemm.multiplyTransposed(g.s, 0, g.m, g.k, 0, g.m, g.buffer,
                new PackedGemm.Product(g.packed, g.n, g.c, 0, g.n, null, 0));
        return g.c;
    }
}
