package dev.lstm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Finite-difference checks (float64) of every layer and loss in dev.lstm4j.nn. */
class LayerGradientTest {
    @Test
    void linearGradientsForInputWeightAndBias() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(1);
            Linear lin = new Linear("l", 3, 4, DType.FLOAT64, arena, r);
            Tensor x = GradientCheck.random(arena, r, 5, 3);
            Tensor g = GradientCheck.random(arena, r, 5, 4);
            Tensor dx;
            try (Arena tmp = Arena.ofConfined()) {
                lin.forward(x, tmp);
                dx = lin.backward(x, g, arena);
            }
            java.util.function.DoubleSupplier loss = () -> {
                try (Arena tmp = Arena.ofConfined()) {
                    return GradientCheck.dot(lin.forward(x, tmp), g);
                }
            };
            GradientCheck.check("dx", x, dx, loss);
            GradientCheck.check("dW", lin.weight().value(), lin.weight().grad(), loss);
            GradientCheck.check("db", lin.bias().value(), lin.bias().grad(), loss);
        }
    }

    @Test
    void linearMatchesHandComputedProduct() {
        try (Arena arena = Arena.ofConfined()) {
            Linear lin = new Linear("l", 2, 2, DType.FLOAT32, arena, new SplittableRandom(0));
            lin.weight().value().copyFrom(new double[] {1, 2, 3, 4}); // [[1, 2], [3, 4]]
            lin.bias().value().copyFrom(new double[] {0.5, -1});
            Tensor x = Tensor.of(arena, DType.FLOAT32, Shape.of(1, 2), new double[] {1, -1});
            Tensor y = lin.forward(x, arena);
            // y = x W^T + b = [1 - 2 + 0.5, 3 - 4 - 1]: exact in float32
            assertEquals(-0.5, y.getFlat(0), 0.0);
            assertEquals(-2.0, y.getFlat(1), 0.0);
        }
    }

    @Test
    void matMulFloat32AgreesWithFloat64AcrossBlockEdges() {
        // sizes not multiples of the vector width or the 4-row block, large enough to take the parallel path
        int m = 67, k = 131, n = 301;
        SplittableRandom r = new SplittableRandom(3);
        double[] a = new double[m * k], b = new double[k * n];
        for (int i = 0; i < a.length; i++) a[i] = r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = r.nextDouble(-1, 1);
        float[] af = new float[a.length], bf = new float[b.length];
        for (int i = 0; i < a.length; i++) af[i] = (float) a[i];
        for (int i = 0; i < b.length; i++) bf[i] = (float) b[i];
        double[] c = new double[m * n];
        float[] cf = new float[m * n];
        MatMul.multiply(a, b, c, m, n, k);
        MatMul.multiply(af, bf, cf, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double expect = 0;
                for (int p = 0; p < k; p++) expect += a[i * k + p] * b[p * n + j];
                assertEquals(expect, c[i * n + j], 1e-12, "float64 c[" + i + "," + j + "]");
                // float32 inputs are rounded (rel. 6e-8 each) and k=131 float32 accumulations: |err| well under 1e-4
                assertEquals(expect, cf[i * n + j], 1e-4, "float32 c[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void tensorProductsInFloat32MatchFloat64ForEveryTransposeAndAccumulate() {
        int m = 37, k = 29, n = 45;
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(4);
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    Tensor a = GradientCheck.random(arena, r, ta ? k : m, ta ? m : k);
                    Tensor b = GradientCheck.random(arena, r, tb ? n : k, tb ? k : n);
                    Tensor c = GradientCheck.random(arena, r, m, n);
                    Tensor c32 = c.to(DType.FLOAT32, arena);
                    double[] c0 = c.toDoubleArray();
                    MatMul.multiply(a, ta, b, tb, c, true);
                    MatMul.multiply(a.to(DType.FLOAT32, arena), ta, b.to(DType.FLOAT32, arena), tb, c32, true);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double expect = c0[i * n + j];
                            for (int p = 0; p < k; p++) {
                                expect += (ta ? a.get(p, i) : a.get(i, p)) * (tb ? b.get(j, p) : b.get(p, j));
                            }
                            String at = "ta=" + ta + " tb=" + tb + " c[" + i + "," + j + "]";
                            // float64: only summation order differs from this loop
                            assertEquals(expect, c.get(i, j), 1e-12, at);
                            // float32: inputs rounded (6e-8 relative) and k = 29 accumulations of O(1) terms
                            assertEquals(expect, c32.get(i, j), 2e-5, at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void largeFloat32ProductsSplitOverThreadsMatchTheUnsplitOne() {
        int m = 64, k = 500, n = 300; // 9.6M multiply-adds: above the split threshold
        SplittableRandom r = new SplittableRandom(9);
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            for (boolean ta : new boolean[] {false, true}) {
                Tensor a = GradientCheck.random(shared, r, ta ? k : m, ta ? m : k).to(DType.FLOAT32, shared);
                Tensor b = GradientCheck.random(shared, r, n, k).to(DType.FLOAT32, shared);
                Tensor split = Tensor.zeros(shared, DType.FLOAT32, m, n);      // other threads may write it
                Tensor whole = Tensor.zeros(confined, DType.FLOAT32, m, n);    // confined: one call on this thread
                MatMul.multiply(a, ta, b, true, split, false);
                MatMul.multiply(a.copy(confined), ta, b.copy(confined), true, whole, false);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double expect = 0;
                        for (int p = 0; p < k; p++) expect += (ta ? a.get(p, i) : a.get(i, p)) * b.get(j, p);
                        // k = 500 float32 accumulations of O(1) products: error well under 1e-3
                        assertEquals(expect, split.get(i, j), 1e-3, "split ta=" + ta);
                        assertEquals(whole.get(i, j), split.get(i, j), 1e-3, "split vs whole ta=" + ta);
                    }
                }
            }
        }
    }

    @Test
    void embeddingGradientAccumulatesRepeatedIds() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(2);
            Embedding emb = new Embedding("e", 5, 3, 0.5, DType.FLOAT64, arena, r);
            int[] ids = {4, 0, 4, 2};
            Tensor g = GradientCheck.random(arena, r, 4, 3);
            emb.backward(ids, g);
            GradientCheck.check("dE", emb.weight().value(), emb.weight().grad(), () -> {
                try (Arena tmp = Arena.ofConfined()) {
                    return GradientCheck.dot(emb.forward(ids, tmp), g);
                }
            });
            assertThrows(IllegalArgumentException.class, () -> emb.forward(new int[] {5}, arena));
        }
    }

    @Test
    void dropoutGradientIsTheMaskAndKeepsTheMean() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(3);
            Dropout d = new Dropout(0.3);
            Tensor x = GradientCheck.random(arena, r, 6, 4);
            Tensor mask = d.mask(x, new SplittableRandom(9), arena);
            Tensor g = GradientCheck.random(arena, r, 6, 4);
            Tensor dx = Dropout.apply(g.copy(arena), mask);
            GradientCheck.check("dx", x, dx, () -> {
                try (Arena tmp = Arena.ofConfined()) {
                    return GradientCheck.dot(Dropout.apply(x.copy(tmp), mask), g);
                }
            });
            Tensor big = Tensor.zeros(arena, DType.FLOAT64, 100_000);
            Tensor m = d.mask(big, new SplittableRandom(4), arena);
            double sum = 0;
            for (long i = 0; i < m.elementCount(); i++) {
                double v = m.getFlat(i);
                assertTrue(v == 0.0 || Math.abs(v - 1 / 0.7) < 1e-15, "mask value " + v);
                sum += v;
            }
            // mean of 1e5 draws of a variable with mean 1 and sd sqrt(0.3/0.7) ~ 0.65: 5 sigma is 0.0104
            assertEquals(1.0, sum / m.elementCount(), 0.0104);
        }
    }

    @Test
    void crossEntropyGradientWithIgnoredRows() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(5);
            Tensor logits = GradientCheck.random(arena, r, 4, 5);
            int[] targets = {3, SoftmaxCrossEntropy.IGNORE, 0, 4};
            SoftmaxCrossEntropy.Result res = SoftmaxCrossEntropy.compute(logits, targets, arena);
            assertEquals(3, res.count());
            GradientCheck.check("dlogits", logits, res.gradLogits(),
                    () -> SoftmaxCrossEntropy.compute(logits, targets, null).meanLoss());
            for (int c = 0; c < 5; c++) assertEquals(0.0, res.gradLogits().get(1, c), 0.0, "ignored row");
        }
    }

    @Test
    void float32CrossEntropyAndReductionsAgreeWithFloat64() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(6);
            int rows = 7, classes = 1003; // not a multiple of any vector width
            Tensor logits = Tensor.zeros(arena, DType.FLOAT64, rows, classes);
            for (long i = 0; i < logits.elementCount(); i++) logits.setFlat(i, r.nextDouble(-8, 8));
            Tensor l32 = logits.to(DType.FLOAT32, arena);
            logits = l32.to(DType.FLOAT64, arena); // the same (float32-representable) inputs for both
            int[] targets = {5, SoftmaxCrossEntropy.IGNORE, 1002, 0, 77, 999, 500};
            SoftmaxCrossEntropy.Result a = SoftmaxCrossEntropy.compute(logits, targets, arena);
            SoftmaxCrossEntropy.Result b = SoftmaxCrossEntropy.compute(l32, targets, arena);
            assertEquals(a.count(), b.count());
            assertEquals(a.correct(), b.correct());
            // float32 exp has about 1 ulp (6e-8 relative) error; summed in double, the loss keeps ~1e-7 relative
            assertEquals(a.sumLoss(), b.sumLoss(), 1e-6 * Math.abs(a.sumLoss()));
            for (long i = 0; i < a.gradLogits().elementCount(); i++) {
                // gradients are probabilities / count, at most 1/6: 1e-7 absolute is a few float32 ulps of that
                assertEquals(a.gradLogits().getFlat(i), b.gradLogits().getFlat(i), 1e-7, "grad " + i);
            }
            double ss = Tensors.sumOfSquares(logits);
            assertEquals(ss, Tensors.sumOfSquares(l32), 1e-6 * ss);
            Tensors.scale(l32, 0.5);
            Tensors.scale(logits, 0.5);
            for (long i = 0; i < logits.elementCount(); i++) assertEquals(logits.getFlat(i), l32.getFlat(i), 0.0);
        }
    }

    @Test
    void crossEntropyIsStableForHugeLogitsAndMatchesHandValue() {
        try (Arena arena = Arena.ofConfined()) {
            // uniform logits over 4 classes: loss is ln 4 whatever the offset
            Tensor a = Tensor.of(arena, DType.FLOAT32, Shape.of(1, 4), new double[] {1e4, 1e4, 1e4, 1e4});
            assertEquals(Math.log(4), SoftmaxCrossEntropy.compute(a, new int[] {2}, null).meanLoss(), 1e-12);
            Tensor b = Tensor.of(arena, DType.FLOAT64, Shape.of(1, 2), new double[] {-800, 0});
            // -log softmax(-800)[0] = 800 + log(1 + e^-800) = 800 (double precision)
            assertEquals(800.0, SoftmaxCrossEntropy.compute(b, new int[] {0}, null).meanLoss(), 1e-9);
            assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.compute(b, new int[] {2}, null));
        }
    }
}
