package dev.lstm4j.cpu;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PackedProjection} against a triple loop in double precision, on shapes that take each of its ways: rows
 * split between the threads, several chunks of rows a thread (640 rows of 200); panels split instead (too few rows
 * for a chunk each), the partial last panel with the last part (4H = 84: two panels and 20 columns); k in two slabs
 * (1100 x 2060 floats of W_ih is more than {@link PackedProjection#SLAB_BYTES}); two directions; one thread; frozen
 * parameters (W_ih packed once for both calls). X rows are wider than the layer's input (as a strided view would be)
 * and g's rows past the call's must stay as they were.
 *
 * <p>Tolerance: each entry is a float32 dot product of k terms, accumulated by FMA in some order; its error is at most
 * k * 2^-24 * sum|terms| (recursive summation's bound), which is what each entry is held to. A missing, doubled or
 * misplaced term (a slab added twice, a tail column left out) is of the order of a term, far above it.
 */
class PackedProjectionTest {
    @ParameterizedTest(name = "I={0} H={1} rows={2} bidirectional={3} threads={4} frozen={5}")
    @CsvSource({
        "200, 21, 640, false, 2, false",  // by rows: 320 each, chunks of 256 and 64; the tail of 20 columns
        "30, 21, 80, false, 2, false",    // by panels: 0..1 and 1..3, the partial panel with the second part
        "1100, 515, 72, false, 2, false", // k in two slabs of 550, and a tail of 12 columns
        "200, 21, 640, true, 2, true",    // two directions, frozen: W_ih packed once per direction
        "64, 32, 96, false, 1, false"})   // one thread, 4H a multiple of the panel
    void matchesATripleLoop(int in, int hidden, int rows, boolean bidirectional, int threads, boolean frozen) {
        assumeTrue(PackedGemm.USABLE, "the packed kernel needs vectors of 8 floats or more; this JVM's hold "
                + PackedGemm.LANES);
        LstmSpec spec = LstmSpec.builder(in, hidden).bidirectional(bidirectional).build();
        int h4 = 4 * hidden;
        int stride = in + 5;
        int rowsCap = rows + 8;
        LstmParams made = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 11);
        LstmParams params = frozen ? made.freeze() : made;
        FrozenPacks frozenPacks = new FrozenPacks();
        try (params; Arena arena = Arena.ofShared(); CpuThreads pool = new CpuThreads(threads);
             FastCpuWorkspace ws = new FastCpuWorkspace(spec, 8, rowsCap, false, 1, FastCpuWorkspace.Layout.PLAIN, 0,
                     false, threads)) {
            PackedProjection projection = new PackedProjection(spec, pool, frozenPacks, CacheSize.l2Bytes());
            MemorySegment x = arena.allocate((long) rows * stride * Float.BYTES, 64); // [rows, stride]
            SplittableRandom r = new SplittableRandom(in * 31L + rows);
            for (long i = 0; i < (long) rows * stride; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
            }
            for (int call = 0; call < 2; call++) {
                for (int d = 0; d < spec.numDirections(); d++) ws.dir(0, d).g[0].fill((byte) 0x7f); // NaN-like
                projection.project(params, ws, 0, rows, x, stride, new HashSet<>());
                for (int d = 0; d < spec.numDirections(); d++) {
                    check(params.weightIh(0, d).segment(), x, stride, in, h4, rows, rowsCap, ws.dir(0, d).g[0]);
                }
            }
            assertEquals(frozen ? spec.numDirections() : 0, frozenPacks.packedCount(),
                    "frozen parameters: W_ih packed once per direction, for both calls");
        }
    }

    private static void check(MemorySegment wih, MemorySegment x, int stride, int in, int h4, int rows, int rowsCap,
                              MemorySegment g) {
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < h4; c++) {
                double sum = 0;
                double magnitude = 0;
                for (int k = 0; k < in; k++) {
                    double term = (double) x.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * stride + k)
                            * wih.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * in + k);
                    sum += term;
                    magnitude += Math.abs(term);
                }
                float got = g.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * h4 + c);
                double bound = in * 0x1p-24 * magnitude;
                if (!(Math.abs(got - sum) <= bound)) {
                    throw new AssertionError("g[" + row + ", " + c + "] = " + got + ", expected " + sum + " within "
                            + bound);
                }
            }
        }
        int untouched = 0x7f7f7f7f;
        for (long i = (long) rows * h4; i < (long) rowsCap * h4; i++) {
            assertTrue(g.getAtIndex(ValueLayout.JAVA_INT, i) == untouched, "g past the call's rows changed at " + i);
        }
    }
}
