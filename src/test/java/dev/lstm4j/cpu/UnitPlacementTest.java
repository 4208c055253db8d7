package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.LstmSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pointwise step treats each hidden unit on its own, so a unit's results may not depend on where it sits in
 * the row: in a vector's lanes, in the last block that overlaps the one before it (H not a multiple of the vector
 * length), or in the scalar code of a row shorter than one vector. The standard kernels run the same float32
 * operations on every path, so the results must be the same bits. Each case places units of one pool at many
 * positions in rows of several H and compares every unit's results, forward (inference and training) and backward,
 * with its first placement. A path that rounded differently (a missing fma, an operation in another order) or
 * wrote a lane from the wrong block fails here, where the equivalence tests' tolerances would let it through.
 */
class UnitPlacementTest {
    private static final int POOL = 48;
    /** H below one vector (scalar code), whole vectors, and whole vectors with an overlapping last block. */
    private static final int[] HIDDEN = {5, 16, 20, 33, 47};
    private static final int[] SHIFTS = {0, 3, 11, 30};

    @ParameterizedTest(name = "peepholes {0}")
    @ValueSource(booleans = {false, true})
    void forwardResultsDoNotDependOnTheUnitsPlace(boolean peepholes) {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        assertTrue(Arrays.stream(HIDDEN).anyMatch(h -> h > lanes && h % lanes != 0),
                "some H ends in an overlapping block of " + lanes + " lanes");
        float[][] pool = pool(11, 4 + 4 + 3 + 1); // a_i..a_o, bias i..o, peep i, f, o, c_prev
        Map<Integer, float[]> first = new HashMap<>();
        Map<Integer, String> placements = new HashMap<>();
        for (int h : HIDDEN) {
            FusedPointwise pointwise = new FusedPointwise(LstmSpec.builder(3, h).peepholes(peepholes).build());
            assertTrue(pointwise.standardKernels(), "the standard spec takes the standard kernels");
            for (int shift : SHIFTS) {
                for (boolean training : new boolean[] {false, true}) {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment g = arena.allocate(4L * h * Float.BYTES, 64); // [1, 4H]
                        MemorySegment bias = arena.allocate(4L * h * Float.BYTES, 64); // [4H]
                        MemorySegment peep = arena.allocate(3L * h * Float.BYTES, 64); // [3H]
                        MemorySegment cState = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                        MemorySegment cPrev = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                        MemorySegment cOut = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                        MemorySegment m = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                        MemorySegment hState = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                        for (int j = 0; j < h; j++) {
                            float[] u = pool[unit(j, shift)];
                            for (int k = 0; k < 4; k++) {
                                set(g, k * h + j, u[k]);
                                set(bias, k * h + j, u[4 + k]);
                            }
                            for (int k = 0; k < 3; k++) {
                                set(peep, k * h + j, u[8 + k]);
                            }
                            set(cState, j, u[11]);
                        }
                        pointwise.forward(1, g, 0, bias, peepholes ? peep : null, cState,
                                training ? cPrev : null, 0, training ? cOut : null, null, 0, m, 0, h, hState, 0,
                                null, 0);
                        for (int j = 0; j < h; j++) {
                            float[] got = training
                                    ? new float[] {get(m, j), get(hState, j), get(cState, j), get(cOut, j),
                                            get(cPrev, j), get(g, j), get(g, h + j), get(g, 2 * h + j),
                                            get(g, 3 * h + j)}
                                    : new float[] {get(m, j), get(hState, j), get(cState, j)};
                            check(first, unit(j, shift) * 2 + (training ? 1 : 0), got,
                                    "H=" + h + " shift " + shift + (training ? " training" : " inference")
                                            + " position " + j, placements);
                        }
                    }
                }
            }
        }
        assertEquals(2 * POOL, first.size(), "every unit of the pool was placed in both modes");
    }

    /**
     * The standard forward takes several rows a call (FusedPointwise's rows per call, 8 at these H): 19 rows in one
     * call (groups of 8, 8 and 3; with a mask, runs of active rows) must give the bits of the same rows one call
     * each, with m's rows wider than H, in inference and in training (c before and after, activations back into g),
     * with and without an h state, all rows active or 4 of them past their sequence's end.
     */
    @ParameterizedTest(name = "peepholes {0}")
    @ValueSource(booleans = {false, true})
    void forwardResultsDoNotDependOnTheRowsCalledTogether(boolean peepholes) {
        int rows = 19;
        for (int h : HIDDEN) {
            FusedPointwise pointwise = new FusedPointwise(LstmSpec.builder(3, h).peepholes(peepholes).build());
            int mLd = h + 3;
            boolean[] masked = new boolean[rows];
            Arrays.fill(masked, true);
            for (int r : new int[] {0, 9, 10, 17}) masked[r] = false;
            for (boolean[] active : new boolean[][] {null, masked}) {
                for (boolean training : new boolean[] {false, true}) {
                    for (boolean withH : new boolean[] {false, true}) {
                        float[][] together = forwardRows(pointwise, h, rows, mLd, training, withH, peepholes, active,
                                rows);
                        float[][] alone = forwardRows(pointwise, h, rows, mLd, training, withH, peepholes, active, 1);
                        for (int t = 0; t < together.length; t++) {
                            for (int i = 0; i < together[t].length; i++) {
                                assertEquals(Float.floatToRawIntBits(alone[t][i]),
                                        Float.floatToRawIntBits(together[t][i]), "H=" + h
                                                + (training ? " training" : " inference") + (withH ? " h state" : "")
                                                + (active != null ? " masked" : "") + " output " + t + " float " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * g, cState, m, h, c before and after of a forward over rows rows (active null: all), perCall rows a call (same
     * inputs each time).
     */
    private static float[][] forwardRows(FusedPointwise pointwise, int h, int rows, int mLd, boolean training,
                                         boolean withH, boolean peepholes, boolean[] active, int perCall) {
        SplittableRandom r = new SplittableRandom(h * 7L + rows);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = random(arena, 4L * h * rows, r, 3);       // [rows, 4H]
            MemorySegment bias = random(arena, 4L * h, r, 1);           // [4H]
            MemorySegment peep = random(arena, 3L * h, r, 1);           // [3H]
            MemorySegment cState = random(arena, (long) h * rows, r, 2); // [rows, H]
            MemorySegment cPrev = arena.allocate((long) h * rows * Float.BYTES, 64); // [rows, H]
            MemorySegment cOut = arena.allocate((long) h * rows * Float.BYTES, 64);  // [rows, H]
            MemorySegment m = arena.allocate((long) mLd * rows * Float.BYTES, 64);   // [rows, mLd]
            MemorySegment hState = arena.allocate((long) h * rows * Float.BYTES, 64); // [rows, H]
            for (int r0 = 0; r0 < rows; r0 += perCall) {
                int n = Math.min(perCall, rows - r0);
                pointwise.forward(n, g, 4L * h * r0, bias, peepholes ? peep : null, cState,
                        training ? cPrev : null, (long) h * r0, training ? cOut : null, null, (long) h * r0, m,
                        (long) mLd * r0, mLd, withH ? hState : null, (long) h * r0, active, r0);
            }
            return new float[][] {g.toArray(ValueLayout.JAVA_FLOAT), cState.toArray(ValueLayout.JAVA_FLOAT),
                    m.toArray(ValueLayout.JAVA_FLOAT), hState.toArray(ValueLayout.JAVA_FLOAT),
                    cPrev.toArray(ValueLayout.JAVA_FLOAT), cOut.toArray(ValueLayout.JAVA_FLOAT)};
        }
    }

    /** count floats uniform in [-scale, scale]. */
    private static MemorySegment random(Arena arena, long count, SplittableRandom r, double scale) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        for (long i = 0; i < count; i++) {
            set(s, i, (float) ((r.nextDouble() * 2 - 1) * scale));
        }
        return s;
    }

    @ParameterizedTest(name = "peepholes {0}")
    @ValueSource(booleans = {false, true})
    void backwardResultsDoNotDependOnTheUnitsPlace(boolean peepholes) {
        // dm, dc from later steps, activations i f g o, c_prev, c, peep i f o
        float[][] pool = pool(12, 2 + 4 + 2 + 3);
        for (float[] u : pool) {
            for (int k = 2; k < 6; k++) {
                u[k] = k == 4 ? (float) Math.tanh(u[k]) : (float) (1 / (1 + Math.exp(-u[k]))); // into (0,1), (-1,1)
            }
        }
        Map<Integer, float[]> first = new HashMap<>();
        Map<Integer, String> placements = new HashMap<>();
        for (int h : HIDDEN) {
            FusedPointwise pointwise = new FusedPointwise(LstmSpec.builder(3, h).peepholes(peepholes).build());
            for (int shift : SHIFTS) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment dm = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                    MemorySegment dc = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                    MemorySegment a = arena.allocate(4L * h * Float.BYTES, 64); // [1, 4H]
                    MemorySegment cPrev = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                    MemorySegment c = arena.allocate((long) h * Float.BYTES, 64); // [1, H]
                    MemorySegment peep = arena.allocate(3L * h * Float.BYTES, 64); // [3H]
                    MemorySegment dPeep = arena.allocate(3L * h * Float.BYTES, 64); // [3H], zeros
                    MemorySegment dA = arena.allocate(4L * h * Float.BYTES, 64); // [1, 4H]
                    for (int j = 0; j < h; j++) {
                        float[] u = pool[unit(j, shift)];
                        set(dm, j, u[0]);
                        set(dc, j, u[1]);
                        for (int k = 0; k < 4; k++) {
                            set(a, k * h + j, u[2 + k]);
                        }
                        set(cPrev, j, u[6]);
                        set(c, j, u[7]);
                        for (int k = 0; k < 3; k++) {
                            set(peep, k * h + j, u[8 + k]);
                        }
                    }
                    pointwise.backward(1, dm, 0, h, dc, a, 0, cPrev, c, null, 0, peepholes ? peep : null, dPeep, 0,
                            dA, 0, null, 0);
                    for (int j = 0; j < h; j++) {
                        // without peepholes the peephole gradients are not outputs (FusedPointwise.backward)
                        float[] got = peepholes
                                ? new float[] {get(dA, j), get(dA, h + j), get(dA, 2 * h + j), get(dA, 3 * h + j),
                                        get(dc, j), get(dPeep, j), get(dPeep, h + j), get(dPeep, 2 * h + j)}
                                : new float[] {get(dA, j), get(dA, h + j), get(dA, 2 * h + j), get(dA, 3 * h + j),
                                        get(dc, j)};
                        check(first, unit(j, shift), got, "H=" + h + " shift " + shift + " position " + j,
                                placements);
                    }
                }
            }
        }
        assertEquals(POOL, first.size(), "every unit of the pool was placed");
    }

    /** The pool's unit at position j of a row placed with this shift. */
    private static int unit(int j, int shift) {
        return (j + shift) % POOL;
    }

    private static float[][] pool(long seed, int values) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] pool = new float[POOL][values];
        for (float[] u : pool) {
            for (int k = 0; k < values; k++) {
                u[k] = (float) random.nextDouble(-3, 3);
            }
        }
        return pool;
    }

    /** Keeps the first results of unit {@code key} and where they came from; later ones must be the same bits. */
    private static void check(Map<Integer, float[]> first, int key, float[] got, String where,
                              Map<Integer, String> placements) {
        float[] seen = first.putIfAbsent(key, got);
        if (seen == null) {
            placements.put(key, where);
            return;
        }
        for (int k = 0; k < got.length; k++) {
            int index = k;
            assertEquals(Float.floatToRawIntBits(seen[k]), Float.floatToRawIntBits(got[k]),
                    () -> "result " + index + " of unit " + key + " at " + where + ": " + got[index] + ", but "
                            + seen[index] + " at " + placements.get(key));
        }
    }

    private static float get(MemorySegment s, long index) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    private static void set(MemorySegment s, long index, float v) {
        s.setAtIndex(ValueLayout.JAVA_FLOAT, index, v);
    }
}
