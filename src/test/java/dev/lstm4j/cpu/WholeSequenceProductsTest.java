package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link WholeSequenceProducts} against triple loops in double precision: the input projection g_d = X W_ih(d)^T and
 * the input gradient dX = sum_d dA_d W_ih(d), on shapes that take each of its ways: rows split between the threads,
 * several chunks of rows a thread (640 rows); panels split instead (too few rows for a chunk each), the partial last
 * panel with the last part (4H = 84: two panels and 20 columns; I = 30: one panel and 30 columns); k in slabs (the
 * products here take a 512 KiB L2, no larger than any machine's in this project, so that a 64-row chunk holds 512
 * floats of k: the projection's k = 600, frozen, and the gradient's k = 524 go in two slabs); two directions (the
 * gradient's second adding to the first's); one thread; frozen parameters (W_ih packed once per product and
 * direction for both calls); and the projection that packs W_ih a pair of panels at a time (rows <= 4H, parameters
 * not frozen: the cases with fewer rows), each part several pairs and the last one's partial panel over more rows
 * than one chunk of the scratch (300 rows, 4H = 400: 12 panels and 16 columns). X rows are wider than the layer's
 * input, as a strided view would be, and rows past the call's must stay as they were.
 *
 * <p>Tolerance: each entry is a float32 dot product of k terms (2k for two directions' gradient), accumulated by FMA
 * in some order; its error is at most terms * 2^-24 * sum|terms| (recursive summation's bound), which is what each
 * entry is held to. A missing, doubled or misplaced term (a slab added twice, a tail column left out) is of the order
 * of a term, far above it.
 */
class WholeSequenceProductsTest {
    /** The products' L2 here; the workspace's buffers, sized for this machine's, are at least as large. */
    private static final long SMALL_L2 = 512L << 10;

    @ParameterizedTest(name = "I={0} H={1} rows={2} bidirectional={3} threads={4} frozen={5}")
    @CsvSource({
        "200, 21, 640, false, 2, false",  // by rows: 320 each, in chunks; the tails of 20 (4H) and 8 (I) columns
        "30, 21, 80, false, 2, false",    // by panels: the partial panels with the second part
        "600, 131, 72, false, 2, false",  // the gradient's k in slabs, and tails of 12 (4H) and 24 (I) columns
        "600, 131, 72, false, 2, true",   // frozen: the projection's k in slabs too
        "200, 21, 640, true, 2, true",    // two directions, frozen: W_ih packed once per product and direction
        "64, 32, 96, false, 1, false",    // one thread, 4H and I multiples of the panel
        "40, 100, 300, true, 2, false"})  // panels packed as it goes, two directions, the tail in two chunks of rows
    void matchTripleLoops(int in, int hidden, int rows, boolean bidirectional, int threads, boolean frozen) {
        assumeTrue(PackedGemm.USABLE, "the packed kernel needs vectors of 8 floats or more; this JVM's hold "
                + PackedGemm.LANES);
        LstmSpec spec = LstmSpec.builder(in, hidden).bidirectional(bidirectional).build();
        int h4 = 4 * hidden;
        int dirs = spec.numDirections();
        int stride = in + 5;
        int rowsCap = rows + 8;
        LstmParams made = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 11);
        LstmParams params = frozen ? made.freeze() : made;
        FrozenPacks frozenPacks = new FrozenPacks();
        assumeTrue(CacheSize.l2Bytes() >= SMALL_L2, "buffers sized for an L2 of " + CacheSize.l2Bytes());
        try (params; Arena arena = Arena.ofShared(); CpuThreads pool = new CpuThreads(threads);
             FastCpuWorkspace ws = new FastCpuWorkspace(spec, 8, rowsCap, true, 1, FastCpuWorkspace.Layout.PLAIN, 0,
                     false, threads)) {
            WholeSequenceProducts products = new WholeSequenceProducts(spec, pool, frozenPacks, SMALL_L2);
            MemorySegment x = random(arena, (long) rows * stride, in * 31L + rows);     // [rows, stride]
            MemorySegment dX = arena.allocate((long) rowsCap * in * Float.BYTES, 64);  // [rowsCap, I]
            for (int d = 0; d < dirs; d++) {
                MemorySegment dA = ws.dir(0, d).dA; // [rowsCap, 4H]
                MemorySegment.copy(random(arena, (long) rows * h4, 7 + d), 0, dA, 0, (long) rows * h4 * Float.BYTES);
            }
            for (int call = 0; call < 2; call++) {
                for (int d = 0; d < dirs; d++) ws.dir(0, d).g[0].fill((byte) 0x7f);
                dX.fill((byte) 0x7f);
                products.project(params, ws, 0, rows, x, stride, new HashSet<>());
                products.inputGradient(params, ws, 0, rows, dX, new HashSet<>());
                for (int d = 0; d < dirs; d++) {
                    MemorySegment wih = params.weightIh(0, d).segment(); // [4H, I]
                    int dir = d;
                    check("g" + d, rows, rowsCap, h4, in, ws.dir(0, d).g[0], (row, col, k) ->
                            (double) x.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * stride + k)
                                    * wih.getAtIndex(ValueLayout.JAVA_FLOAT, (long) col * in + k));
                }
                check("dX", rows, rowsCap, in, dirs * h4, dX, (row, col, k) -> {
                    int d = k / h4;
                    int j = k % h4;
                    return (double) ws.dir(0, d).dA.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * h4 + j)
                            * params.weightIh(0, d).segment().getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * in + col);
                });
            }
            assertEquals(frozen ? 2 * dirs : 0, frozenPacks.packedCount(),
                    "frozen parameters: W_ih packed once per product and direction, for both calls");
        }
    }

    /**
     * Split by rows, the parts claim chunks of rows in turn, so which part computes a chunk varies from call to call;
     * every chunk is computed the same way on any part, so two threads give the bits one thread gives. 650 rows are 4
     * whole chunks of 160 (this L2's chunk at I = 200) and one of 10.
     */
    @Test
    void claimedChunksGiveTheBitsOfOneThread() {
        assumeTrue(PackedGemm.USABLE, "the packed kernel needs vectors of 8 floats or more; this JVM's hold "
                + PackedGemm.LANES);
        assumeTrue(CacheSize.l2Bytes() >= SMALL_L2, "buffers sized for an L2 of " + CacheSize.l2Bytes());
        int in = 200;
        int rows = 650;
        assertEquals(160, WholeSequenceProducts.chunkRows(in, 4 * 21, SMALL_L2), "chunk rows at I = 200");
        LstmSpec spec = LstmSpec.builder(in, 21).build();
        try (LstmParams params = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 5);
             Arena arena = Arena.ofShared()) {
            MemorySegment x = random(arena, (long) rows * in, 3);                    // [rows, I]
            MemorySegment dA = random(arena, (long) rows * 4 * 21, 4);               // [rows, 4H]
            float[][] one = projectAndGradient(spec, params, 1, rows, x, dA);
            for (int call = 0; call < 3; call++) {
                float[][] two = projectAndGradient(spec, params, 2, rows, x, dA);
                assertArrayEquals(one[0], two[0], "g on 2 threads, call " + call);
                assertArrayEquals(one[1], two[1], "dX on 2 threads, call " + call);
            }
        }
    }

    /** g [rows, 4H] and dX [rows, I] of one layer's products on the given threads. */
    private static float[][] projectAndGradient(LstmSpec spec, LstmParams params, int threads, int rows,
                                                MemorySegment x, MemorySegment dA) {
        int h4 = 4 * spec.hiddenSize();
        int in = spec.inputSize();
        try (Arena arena = Arena.ofShared(); CpuThreads pool = new CpuThreads(threads);
             FastCpuWorkspace ws = new FastCpuWorkspace(spec, 8, rows, true, 1, FastCpuWorkspace.Layout.PLAIN, 0,
                     false, threads)) {
            WholeSequenceProducts products = new WholeSequenceProducts(spec, pool, new FrozenPacks(), SMALL_L2);
            MemorySegment.copy(dA, 0, ws.dir(0, 0).dA, 0, (long) rows * h4 * Float.BYTES);
            MemorySegment dX = arena.allocate((long) rows * in * Float.BYTES, 64); // [rows, I]
            products.project(params, ws, 0, rows, x, in, new HashSet<>());
            products.inputGradient(params, ws, 0, rows, dX, new HashSet<>());
            float[] g = new float[rows * h4];
            MemorySegment.copy(ws.dir(0, 0).g[0], ValueLayout.JAVA_FLOAT, 0, g, 0, g.length);
            return new float[][] {g, dX.toArray(ValueLayout.JAVA_FLOAT)};
        }
    }

    private interface Term {
        double of(int row, int col, int k);
    }

    /** c [rows, n] against the sums over k of the terms; c's rows up to rowsCap left as they were. */
    private static void check(String name, int rows, int rowsCap, int n, int terms, MemorySegment c, Term term) {
        for (int row = 0; row < rows; row++) {
            for (int col = 0; col < n; col++) {
                double sum = 0;
                double magnitude = 0;
                for (int k = 0; k < terms; k++) {
                    double t = term.of(row, col, k);
                    sum += t;
                    magnitude += Math.abs(t);
                }
                float got = c.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * n + col);
                double bound = terms * 0x1p-24 * magnitude;
                if (!(Math.abs(got - sum) <= bound)) {
                    throw new AssertionError(name + "[" + row + ", " + col + "] = " + got + ", expected " + sum
                            + " within " + bound);
                }
            }
        }
        for (long i = (long) rows * n; i < (long) rowsCap * n; i++) {
            assertTrue(c.getAtIndex(ValueLayout.JAVA_INT, i) == 0x7f7f7f7f, name + " past the call's rows changed at "
                    + i);
        }
    }

    private static MemorySegment random(Arena arena, long floats, long seed) {
        MemorySegment s = arena.allocate(floats * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }
}
