package dev.lstm4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x in float32 over a heap row, in place, with the Vector API's arithmetic only.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: that is a call into the JDK's SVML stubs, and C2 keeps no vector
 * register across a call, so in a kernel with a dozen live vectors each exp spills and reloads all of them (the
 * standard forward kernel had five). A pass of its own over a row of arguments, as here, keeps the kernels free of
 * calls, and its loop free of everything but the exp (Zen 4, H = 128, one core: the standard forward step 4.9 ->
 * 2.5 ns per cell). The same formula inlined into the fused kernel, on segments, was slower: C2 split its paths
 * at every segment access and compiled 160 KB of code, in 8 s.
 *
 * <p>The method: x is clamped to [-86, 88] (e^x stays a normal float: the result is at least 2.2e-38 below -86 and
 * at most 1.7e38 above 88, where the activations built on it are already exactly 0, 1 or -1 in float32, or within
 * 2.2e-38 of 0); n = round(x log2 e) by adding 1.5 * 2^23 in one FMA (the integer lands in the low bits); r = x - n
 * ln 2 with ln 2 split into a 16-bit head (n * head is exact) and a tail; e^r as 1 + r + C2 r^2 + ... + C6 r^6,
 * evaluated in six FMAs; and 2^n as the float whose exponent field is n + 127, from the integer in t's low bits. Max
 * relative error 7.5e-8 (1.3 units in the last place) against {@link Math#exp} over [-86, 88] (VectorExpTest), where
 * the Vector API's EXP is within 6e-8. NaN stays NaN (the clamp's comparisons are false for it).
 *
 * <p>The series' coefficients C2..C6 were fitted to e^r - 1 - r on |r| <= ln 2 / 2 for the least maximum relative
 * error (Lawson's iteratively reweighted least squares on 400,001 points, in float64): 3.1e-9 as fitted, 3.8e-9 once
 * rounded to float32, where the Taylor series to r^6 is 1.2e-7 off and to r^7 7.5e-9. Against that Taylor series to
 * r^7 (eight operations) the pass is two vector operations shorter: the standard forward step 2.46 -> 2.34 ns per
 * cell (H = 128, one core, 2026-12-06).
 */
final class VectorExp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int LANES = S.length();

    private static final float LOWEST = -86f;
    private static final float HIGHEST = 88f;
    /** 1.5 * 2^23: added to a float below 2^22 in magnitude, it leaves round(x) in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final float LOG2_E = 1.44269504088896341f;
    /** ln 2 = LN2_HEAD + LN2_TAIL; the head has 16 significant bits, so n * head is exact for |n| <= 256. */
    private static final float LN2_HEAD = 0.693145751953125f;
    private static final float LN2_TAIL = 1.42860682030941723e-6f;

    private static final float C2 = 0.4999999403953552f;
    private static final float C3 = 0.1666652113199234f;
    private static final float C4 = 0.04166838899254799f;
    private static final float C5 = 0.00836870726197958f;
    private static final float C6 = 0.0013814602280035615f;

    private VectorExp() {}

    /** Floats to hold a row of n values as whole vectors: n rounded up to a multiple of {@link #LANES}. */
    static int padded(int n) {
        return (n + LANES - 1) / LANES * LANES;
    }

    /** x[j] = e^x[j] for j in from..to-1; to - from must be a multiple of {@link #LANES}. */
    static void inPlace(float[] x, int from, int to) {
        if ((to - from) % LANES != 0 || from < 0 || to > x.length) {
            throw new IllegalArgumentException("exp: expected whole vectors of " + LANES + " within " + x.length
                    + " floats, got " + from + ".." + to);
        }
        FloatVector lowest = FloatVector.broadcast(S, LOWEST);
        FloatVector highest = FloatVector.broadcast(S, HIGHEST);
        FloatVector rounder = FloatVector.broadcast(S, ROUNDER);
        FloatVector log2e = FloatVector.broadcast(S, LOG2_E);
        FloatVector minusHead = FloatVector.broadcast(S, -LN2_HEAD);
        FloatVector minusTail = FloatVector.broadcast(S, -LN2_TAIL);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector k2 = FloatVector.broadcast(S, C2);
        FloatVector k3 = FloatVector.broadcast(S, C3);
        FloatVector k4 = FloatVector.broadcast(S, C4);
        FloatVector k5 = FloatVector.broadcast(S, C5);
        FloatVector k6 = FloatVector.broadcast(S, C6);
        // t's bits minus the rounder's are n; plus 127 they are the biased exponent of 2^n
        IntVector exponentBias = IntVector.broadcast(I, 127 - Float.floatToRawIntBits(ROUNDER));
        for (int j = from; j < to; j += LANES) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            // blend, not min/max: Java's max and min order -0 and NaN, which costs x86 several instructions more
            v = v.blend(highest, v.compare(VectorOperators.GT, highest))
                    .blend(lowest, v.compare(VectorOperators.LT, lowest));
            FloatVector t = v.fma(log2e, rounder);
            FloatVector n = t.sub(rounder);
            FloatVector r = n.fma(minusTail, n.fma(minusHead, v));
            FloatVector series = k6.fma(r, k5).fma(r, k4).fma(r, k3).fma(r, k2).fma(r, one).fma(r, one);
            FloatVector twoToN = t.viewAsIntegralLanes().add(exponentBias).lanewise(VectorOperators.LSHL, 23)
                    .viewAsFloatingLanes();
            series.mul(twoToN).intoArray(x, j);
        }
    }
}
