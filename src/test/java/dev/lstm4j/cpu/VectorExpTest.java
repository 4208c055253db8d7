package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link VectorExp} against {@link Math#exp} in float64. Bound: 1.5e-7 relative, 2.5 units in the last place of a
 * float (2^-24 = 6e-8 each): the series is within 3.8e-9 relative of e^r, and the reduction and the float32
 * operations of the series round (about 1e-7 in all, worst case); 2^n is exact. Observed: 7.5e-8. Checked to fail:
 * ln 2's tail left out (1.8e-4 off), the r^6 coefficient left out (3.4e-6) and the r^5 coefficient 0.0088 for
 * 0.00837 (3.1e-6); an exponent off by one is a factor of 2. (The r^2 coefficient as 1/2 instead of its fitted
 * 0.49999994, one unit in the last place, moves it to 8.3e-8: within the bound.)
 */
class VectorExpTest {
    static final double BOUND = 1.5e-7;

    @Test
    void agreesWithMathExpOverTheWholeRange() {
        int n = VectorExp.padded(1 << 20);
        float[] x = new float[n];
        for (int k = 0; k < n; k++) x[k] = -86f + 174f * k / (n - 1); // -86 .. 88, step 1.7e-4
        float[] y = x.clone();
        VectorExp.inPlace(y, 0, n);
        double worst = 0;
        int at = 0;
        for (int k = 0; k < n; k++) {
            double exact = Math.exp(x[k]);
            double rel = Math.abs(y[k] - exact) / exact;
            if (rel > worst) {
                worst = rel;
                at = k;
            }
        }
        double w = worst;
        int where = at;
        assertTrue(worst <= BOUND, () -> "max relative error " + w + " at x = " + x[where] + " (e^x = "
                + Math.exp(x[where]) + ", got " + y[where] + ")");
    }

    @Test
    void exactWhereTheResultIsExact() {
        float[] x = padded(0f, 1f, -1f, (float) Math.log(2));
        VectorExp.inPlace(x, 0, x.length);
        assertEquals(1f, x[0], "e^0");
        assertEquals((float) Math.E, x[1], Math.ulp((float) Math.E), "e^1");
        assertEquals((float) (1 / Math.E), x[2], Math.ulp((float) (1 / Math.E)), "e^-1");
        assertEquals(2f, x[3], Math.ulp(2f), "e^ln 2");
    }

    /** Beyond [-86, 88] the argument is clamped, infinities included, and NaN stays NaN. */
    @Test
    void clampsTheArgumentAndKeepsNaN() {
        float[] x = padded(100f, Float.POSITIVE_INFINITY, -100f, Float.NEGATIVE_INFINITY, Float.NaN, 88f, -86f);
        float[] edges = padded(88f, -86f);
        VectorExp.inPlace(edges, 0, edges.length);
        VectorExp.inPlace(x, 0, x.length);
        assertEquals(edges[0], x[0], "e^100 as e^88");
        assertEquals(edges[0], x[1], "e^inf as e^88");
        assertEquals(edges[1], x[2], "e^-100 as e^-86");
        assertEquals(edges[1], x[3], "e^-inf as e^-86");
        assertTrue(Float.isNaN(x[4]), "e^NaN: " + x[4]);
        assertTrue(Float.isFinite(edges[0]) && edges[0] > 1.6e38f, "e^88 a finite float: " + edges[0]);
        assertTrue(Float.isFinite(1 / edges[1]), "e^-86 a normal float: " + edges[1]);
        // what the activations make of it: sigmoid 1 / (1 + e^-a) and tanh 1 - 2 / (1 + e^2a) saturate exactly
        assertEquals(1f, 1f / (1f + edges[1]), "sigmoid(86)");
        assertEquals(-1f, 1f - 2f / (1f + edges[1]), "tanh(-43)");
        assertEquals(1f, 1f - 2f / (1f + edges[0]), "tanh(44)");
        assertTrue(1f / (1f + edges[0]) < 1e-38f, "sigmoid(-88): " + 1f / (1f + edges[0]));
    }

    @Test
    void refusesRangesThatAreNotWholeVectors() {
        float[] x = new float[2 * VectorExp.LANES];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorExp.inPlace(x, 0, VectorExp.LANES + 1));
        assertTrue(e.getMessage().startsWith("exp: expected whole vectors of " + VectorExp.LANES), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VectorExp.inPlace(x, VectorExp.LANES, 3 * VectorExp.LANES));
    }

    private static float[] padded(float... values) {
        float[] x = new float[VectorExp.padded(values.length)];
        System.arraycopy(values, 0, x, 0, values.length);
        return x;
    }
}
