package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link OneRowStep}'s products a row at a time, for several rows at offsets and leading dimensions past the rows'
 * widths, against the same products in double: the fused forward [x h] [W_ih W_hh]^T (and x W_ih^T alone from a zero
 * state), the fused backward dA [W_ih W_hh], and the recurrent product split over parts by outputs. Tolerance, output
 * by output: k * 2^-24 * sum |a_q b_q| over its k products, the first-order bound of a float32 sum of k products in
 * any order; a row left out or taken from the wrong offset is off by the row's whole value.
 */
class OneRowStepTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int ROWS = 3;
    private static final int IN = 19;
    private static final int P = 13;
    private static final int H4 = 4 * 11;

    @BeforeAll
    static void openBlasLoads() {
        assertTrue(OpenBlas.isLoaded(), () -> "OpenBLAS must load on this platform: " + OpenBlas.loadFailure());
    }

    @ParameterizedTest(name = "zero state: {0}")
    @ValueSource(booleans = {false, true})
    void fusedForwardRowsMatchTheProductInDouble(boolean zeroState) {
        int xLd = IN + 5;
        long xOff = 3;
        long hOff = 2;
        long gOff = 6;
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(1);
            MemorySegment wih = random(arena, (long) H4 * IN, r); // [4H, I]
            MemorySegment whh = random(arena, (long) H4 * P, r);  // [4H, P]
            MemorySegment x = random(arena, xOff + (long) ROWS * xLd, r);
            MemorySegment h = random(arena, hOff + (long) ROWS * P, r);
            MemorySegment g = random(arena, gOff + (long) ROWS * H4 + 1, r);
            float past = g.getAtIndex(F, gOff + (long) ROWS * H4);
            OneRowStep.forward(ROWS, wih, IN, whh, P, H4, x, xOff, xLd, h, hOff, g, gOff, zeroState);
            for (int b = 0; b < ROWS; b++) {
                for (int j = 0; j < H4; j++) {
                    Sum s = new Sum();
                    for (int q = 0; q < IN; q++) {
                        s.add(wih.getAtIndex(F, (long) j * IN + q), x.getAtIndex(F, xOff + (long) b * xLd + q));
                    }
                    if (!zeroState) {
                        for (int q = 0; q < P; q++) {
                            s.add(whh.getAtIndex(F, (long) j * P + q), h.getAtIndex(F, hOff + (long) b * P + q));
                        }
                    }
                    s.check(g.getAtIndex(F, gOff + (long) b * H4 + j), "g[" + b + ", " + j + "]");
                }
            }
            assertEquals(past, g.getAtIndex(F, gOff + (long) ROWS * H4), "the float past the last row");
        }
    }

    @Test
    void fusedBackwardRowsMatchTheProductInDouble() {
        int ldo = IN + P + 4;
        long dAOff = 5;
        long outOff = 1;
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(2);
            MemorySegment wih = random(arena, (long) H4 * IN, r);
            MemorySegment whh = random(arena, (long) H4 * P, r);
            MemorySegment dA = random(arena, dAOff + (long) ROWS * H4, r);
            MemorySegment out = random(arena, outOff + (long) ROWS * ldo, r);
            float[] gap = new float[ROWS]; // each row's floats past I + P are left alone
            for (int b = 0; b < ROWS; b++) gap[b] = out.getAtIndex(F, outOff + (long) b * ldo + IN + P);
            OneRowStep.backward(ROWS, wih, IN, whh, P, H4, dA, dAOff, out, outOff, ldo);
            for (int b = 0; b < ROWS; b++) {
                for (int c = 0; c < IN + P; c++) {
                    Sum s = new Sum();
                    for (int j = 0; j < H4; j++) {
                        float w = c < IN ? wih.getAtIndex(F, (long) j * IN + c)
                                : whh.getAtIndex(F, (long) j * P + c - IN);
                        s.add(w, dA.getAtIndex(F, dAOff + (long) b * H4 + j));
                    }
                    s.check(out.getAtIndex(F, outOff + (long) b * ldo + c), "out[" + b + ", " + c + "]");
                }
                assertEquals(gap[b], out.getAtIndex(F, outOff + (long) b * ldo + IN + P), "row " + b + "'s gap");
            }
        }
    }

    @ParameterizedTest(name = "backward: {0}")
    @ValueSource(booleans = {false, true})
    void recurrentPartsRowsMatchTheProductInDouble(boolean backward) {
        int n = backward ? P : H4; // outputs
        int k = backward ? H4 : P; // inputs
        long aOff = 4;
        long cOff = 3;
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(backward ? 3 : 4);
            MemorySegment whh = random(arena, (long) H4 * P, r);
            MemorySegment a = random(arena, aOff + (long) ROWS * k, r);
            MemorySegment c = random(arena, cOff + (long) ROWS * n, r);
            float[] before = new float[ROWS * n];
            for (int i = 0; i < before.length; i++) before[i] = c.getAtIndex(F, cOff + i);
            for (int q = 0; q < 2; q++) {
                OneRowStep.recurrentPart(ROWS, whh, backward, n, k, a, aOff, c, cOff, q, 2);
            }
            for (int b = 0; b < ROWS; b++) {
                for (int j = 0; j < n; j++) {
                    Sum s = new Sum();
                    if (!backward) s.add(before[b * n + j], 1f); // forward adds to C; backward overwrites it
                    for (int q = 0; q < k; q++) {
                        float w = backward ? whh.getAtIndex(F, (long) q * P + j) : whh.getAtIndex(F, (long) j * P + q);
                        s.add(w, a.getAtIndex(F, aOff + (long) b * k + q));
                    }
                    s.check(c.getAtIndex(F, cOff + (long) b * n + j), "c[" + b + ", " + j + "]");
                }
            }
        }
    }

    /** A dot product in double and the bound on its float32 rounding error. */
    private static final class Sum {
        double value;
        double magnitude;
        int terms;

        void add(float a, float b) {
            value += (double) a * b;
            magnitude += Math.abs((double) a * b);
            terms++;
        }

        void check(float got, String what) {
            double tolerance = terms * 0x1p-24 * magnitude;
            assertTrue(Math.abs(got - value) <= tolerance, () -> what + ": " + got + " against " + value
                    + " (tolerance " + tolerance + ")");
        }
    }

    private static MemorySegment random(Arena arena, long floats, SplittableRandom r) {
        MemorySegment m = arena.allocate(floats * Float.BYTES, 64);
        for (long i = 0; i < floats; i++) m.setAtIndex(F, i, (float) r.nextDouble(-1, 1));
        return m;
    }
}
