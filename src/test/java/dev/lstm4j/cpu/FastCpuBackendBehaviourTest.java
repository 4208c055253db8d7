package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Workspace reuse, threads, masking, dispatch and misuse of the fast CPU backend. */
class FastCpuBackendBehaviourTest {
    static final LstmSpec SPEC = LstmSpec.builder(3, 5).numLayers(2).bidirectional(true).peepholes(true).build();

    @Test
    void reusesOneWorkspaceAcrossShapesWithoutGrowing() {
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(SPEC, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(SPEC, 2)) {
            int[][] shapes = {{6, 4}, {3, 7}, {6, 4}, {2, 2}, {3, 7}};
            float[][] first = new float[shapes.length][];
            long settled = -1;
            for (int round = 0; round < 4; round++) {
                for (int k = 0; k < shapes.length; k++) {
                    float[] dx = trainingStep(arena, fast, p, shapes[k][0], shapes[k][1]);
                    if (round == 0) {
                        first[k] = dx;
                    } else {
                        assertArrayEquals(first[k], dx, "a reused workspace gives bit-identical results");
                    }
                }
                if (round == 0) {
                    settled = fast.workspaceBytes();
                } else {
                    assertEquals(settled, fast.workspaceBytes(), "workspace bytes after round " + round);
                }
            }
            // one workspace, sized for the largest batch (7) and the largest T*B (24), holds everything
            FastCpuWorkspace expected = new FastCpuWorkspace(SPEC, 7, 24, true, 1, fast.plan().layout(),
                    fast.gradientParts(), fast.plan().everyCallFuses(), fast.productParts());
            try (expected) {
                // the packed weights, where the packed kernel runs (8-float vectors or more)
                for (int l = 0; l < SPEC.numLayers() && PackedGemm.USABLE; l++) {
                    for (int d = 0; d < SPEC.numDirections(); d++) expected.dir(l, d).ownPacked();
                }
                assertEquals(expected.bytes(), settled);
            }
        }
    }

    /**
     * Which weight gradients run on the packed kernel: those whose 4H is a multiple of its row block, with packed
     * GEMMs (the equivalence tests cover both paths: H = 20 and 70 take it, H = 7, 33 and 45 take OpenBLAS).
     */
    @Test
    void packsTheWeightGradientsWhere4HFillsWholeRowBlocks() {
        boolean kernel = PackedGemm.USABLE;
        try (FastCpuBackend even = new FastCpuBackend(LstmSpec.builder(5, 20).build(), 2);
             FastCpuBackend odd = new FastCpuBackend(LstmSpec.builder(5, 7).build(), 2);
             FastCpuBackend blas = new FastCpuBackend(LstmSpec.builder(5, 20).build(), 2, RecurrentGemm.BLAS)) {
            assertEquals(kernel, even.plan().packedGradients(), "H = 20: 4H = 80 whole blocks of " + PackedGemm.MR);
            assertEquals(kernel && 28 % PackedGemm.MR == 0, odd.plan().packedGradients(), "H = 7: 4H = 28");
            assertEquals(false, blas.plan().packedGradients(), "gemm=blas keeps every GEMM on OpenBLAS");
        }
    }

    @Test
    void aTrainingOutputKeepsItsOwnWorkspaceUntilClosed() {
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(SPEC, DType.FLOAT32, Initializer.pytorchUniform(), 3);
             FastCpuBackend fast = new FastCpuBackend(SPEC, 1)) {
            Tensor x1 = random(arena, Shape.of(4, 2, 3), 1);
            Tensor x2 = random(arena, Shape.of(4, 2, 3), 2);
            Tensor dy = random(arena, LstmShapes.outputShape(SPEC, 4, 2), 3);
            float[] alone;
            try (LstmOutput y = fast.forward(p, LstmInput.of(x1).training(true));
                 LstmGradients g = fast.backward(p, y, dy, null, null)) {
                alone = g.params().weightHh(1, 1).toFloatArray();
            }
            LstmOutput y1 = fast.forward(p, LstmInput.of(x1).training(true));
            LstmOutput y2 = fast.forward(p, LstmInput.of(x2).training(true)); // while y1 is still open
            try (y2; LstmGradients g = fast.backward(p, y1, dy, null, null)) {
                assertArrayEquals(alone, g.params().weightHh(1, 1).toFloatArray());
            }
            y1.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> fast.backward(p, y1, dy, null, null));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void threadSettingIsHonoured() {
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(SPEC, DType.FLOAT32, Initializer.pytorchUniform(), 3)) {
            try (FastCpuBackend one = new FastCpuBackend(SPEC, 1)) {
                trainingStep(arena, one, p, 5, 4);
                assertEquals(1, one.lastThreads().size(), one.lastThreads().toString());
                assertEquals(Thread.currentThread().getName(), one.lastThreads().iterator().next());
            }
            try (FastCpuBackend two = new FastCpuBackend(SPEC, 2)) {
                trainingStep(arena, two, p, 5, 4);
                assertEquals(2, two.lastThreads().size(), "both directions, concurrently: " + two.lastThreads());
            }
            LstmSpec uni = LstmSpec.builder(3, 5).build();
            try (LstmParams pu = LstmParams.initialized(uni, DType.FLOAT32, Initializer.pytorchUniform(), 3);
                 FastCpuBackend three = new FastCpuBackend(uni, 3)) {
                trainingStep(arena, three, pu, 2, 96);
                // three batch chunks of 32 rows: this thread runs one, the two workers the others (a quick worker may
                // take two)
                int used = three.lastThreads().size();
                assertTrue(used >= 2 && used <= 3, "threads used: " + three.lastThreads());
            }
            // OpenBLAS never adds threads of its own: all parallel work is on the threads above
            assertEquals(1, OpenBlas.threads());
        }
        assertThrows(IllegalArgumentException.class, () -> new FastCpuBackend(SPEC, 0));
        assertThrows(IllegalArgumentException.class, () -> new FastCpuProvider(0));
    }

    @Test
    void threadCountComesFromThePropertyOrTheCores() {
        String old = System.getProperty(FastCpuProvider.THREADS_PROPERTY);
        try {
            System.clearProperty(FastCpuProvider.THREADS_PROPERTY);
            assertEquals(Runtime.getRuntime().availableProcessors(), FastCpuProvider.defaultThreads());
            System.setProperty(FastCpuProvider.THREADS_PROPERTY, "3");
            try (FastCpuBackend b = (FastCpuBackend) new FastCpuProvider().create(SPEC, DType.FLOAT32)) {
                assertEquals(3, b.threads());
            }
            try (FastCpuBackend b = (FastCpuBackend) new FastCpuProvider(2).create(SPEC, DType.FLOAT32)) {
                assertEquals(2, b.threads(), "the constructor's setting wins over the property");
            }
            System.setProperty(FastCpuProvider.THREADS_PROPERTY, "many");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    FastCpuProvider::defaultThreads);
            assertTrue(e.getMessage().contains(FastCpuProvider.THREADS_PROPERTY) && e.getMessage().contains("many"));
        } finally {
            if (old == null) System.clearProperty(FastCpuProvider.THREADS_PROPERTY);
            else System.setProperty(FastCpuProvider.THREADS_PROPERTY, old);
        }
    }

    @Test
    void perStepGemmComesFromThePropertyOrIsPacked() {
        String old = System.getProperty(FastCpuProvider.GEMM_PROPERTY);
        try {
            System.clearProperty(FastCpuProvider.GEMM_PROPERTY);
            assertEquals(RecurrentGemm.PACKED, FastCpuProvider.defaultGemm());
            System.setProperty(FastCpuProvider.GEMM_PROPERTY, " BLAS ");
            try (FastCpuBackend b = (FastCpuBackend) new FastCpuProvider().create(SPEC, DType.FLOAT32)) {
                assertEquals(RecurrentGemm.BLAS, b.gemm());
            }
            try (FastCpuBackend b = (FastCpuBackend) new FastCpuProvider(2, RecurrentGemm.PACKED)
                    .create(SPEC, DType.FLOAT32)) {
                assertEquals(RecurrentGemm.PACKED, b.gemm(), "the constructor's setting wins over the property");
            }
            System.setProperty(FastCpuProvider.GEMM_PROPERTY, "mkl");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, FastCpuProvider::defaultGemm);
            assertTrue(e.getMessage().contains(FastCpuProvider.GEMM_PROPERTY) && e.getMessage().contains("mkl"),
                    e.getMessage());
        } finally {
            if (old == null) System.clearProperty(FastCpuProvider.GEMM_PROPERTY);
            else System.setProperty(FastCpuProvider.GEMM_PROPERTY, old);
        }
    }

    /**
     * DESIGN.md's masking rule, checked against the backend itself: each sequence of a padded batch gives exactly
     * what it gives alone at its own length (outputs, final state, every gradient), its outputs past its length are
     * zero, and gradients given for padded steps change nothing.
     */
    @Test
    void maskingRule() {
        LstmSpec spec = LstmSpec.builder(3, 6).numLayers(2).bidirectional(true).projSize(4).build();
        int t = 5;
        int[] lengths = {5, 2, 1, 4};
        int batch = lengths.length;
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 8);
             FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            Tensor x = random(arena, Shape.of(t, batch, 3), 4);
            Tensor dy = random(arena, LstmShapes.outputShape(spec, t, batch), 5);
            Tensor dyClean = dy.copy(arena); // the same gradient with zeros on padded steps
            for (int b = 0; b < batch; b++) {
                for (int s = lengths[b]; s < t; s++) {
                    for (int k = 0; k < 8; k++) dyClean.set(0, s, b, k);
                }
            }
            try (LstmOutput y = fast.forward(p, LstmInput.of(x).withLengths(lengths).training(true));
                 LstmGradients g = fast.backward(p, y, dy, null, null);
                 LstmGradients gClean = fast.backward(p, y, dyClean, null, null)) {
                for (String n : spec.parameterNames()) {
                    assertArrayEquals(gClean.params().get(n).toFloatArray(), g.params().get(n).toFloatArray(),
                            "gradients from padded steps must be ignored: " + n);
                }
                for (int b = 0; b < batch; b++) {
                    int len = lengths[b];
                    Tensor xb = Tensor.zeros(arena, DType.FLOAT32, len, 1, 3);
                    Tensor dyb = Tensor.zeros(arena, DType.FLOAT32, len, 1, 8);
                    for (int s = 0; s < len; s++) {
                        for (int k = 0; k < 3; k++) xb.set(x.get(s, b, k), s, 0, k);
                        for (int k = 0; k < 8; k++) dyb.set(dy.get(s, b, k), s, 0, k);
                    }
                    try (LstmOutput yb = fast.forward(p, LstmInput.of(xb).training(true));
                         LstmGradients gb = fast.backward(p, yb, dyb, null, null)) {
                        for (int s = 0; s < t; s++) {
                            for (int k = 0; k < 8; k++) {
                                double expected = s < len ? yb.output().get(s, 0, k) : 0.0;
                                assertEquals(expected, y.output().get(s, b, k), 1e-6,
                                        "output at t=" + s + " b=" + b + " k=" + k);
                            }
                        }
                        for (int st = 0; st < 4; st++) {
                            for (int k = 0; k < 4; k++) {
                                assertEquals(yb.hN().get(st, 0, k), y.hN().get(st, b, k), 1e-6, "h_n b=" + b);
                            }
                            for (int k = 0; k < 6; k++) {
                                assertEquals(yb.cN().get(st, 0, k), y.cN().get(st, b, k), 1e-6, "c_n b=" + b);
                            }
                        }
                        for (int s = 0; s < t; s++) {
                            for (int k = 0; k < 3; k++) {
                                double expected = s < len ? gb.input().get(s, 0, k) : 0.0;
                                assertEquals(expected, g.input().get(s, b, k), 1e-6, "d input t=" + s + " b=" + b);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void autoPicksItForFloat32AndTheReferenceForFloat64() {
        Dispatcher d = Dispatcher.discover();
        LstmSpec spec = LstmSpec.builder(3, 4).build();
        assertEquals(BackendKind.CPU, d.chooseAuto(spec, DType.FLOAT32).choice().kind());
        var f64 = d.chooseAuto(spec, DType.FLOAT64).choice();
        assertEquals(BackendKind.REFERENCE, f64.kind());
        assertTrue(f64.passedOver().stream().anyMatch(s -> s.startsWith("cpu") && s.contains("float32")),
                f64.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.builder(spec).dtype(DType.FLOAT64).backend("cpu").build());
        assertTrue(e.getMessage().contains("float32"), e.getMessage());
        try (Lstm lstm = Lstm.builder(spec).dtype(DType.FLOAT32).build()) {
            assertEquals(BackendKind.CPU, lstm.backendChoice().kind());
        }
        assertEquals(List.of(), new FastCpuProvider().unsupportedReason(spec, DType.FLOAT32).stream().toList());
    }

    /**
     * No buffer is allocated per step: in steady state (after the JIT has compiled the kernels) a training step of 64
     * time steps allocates at most a few small objects more per step than one of 4, and less than the smallest
     * per-step buffer ([B, H] = 8 x 32 floats = 1 KiB here; the bound is half of it). The few objects are the segment
     * slices that carry GEMM arguments to OpenBLAS, which C2 usually scalar-replaces (measured: 0 bytes per step on
     * both paths with default flags; 480 on the general one when inlining is starved with -XX:InlineSmallCode=200
     * -XX:MaxInlineSize=8). Measured for the standard kernels and for the general ones (H = 33, a vector tail;
     * clip, cell clip, coupled input-forget gate, peepholes, HardSigmoid/LeakyRelu/Softsign), in a fresh JVM
     * ({@link AllocationProbe}), on one thread, and for the standard ones again on 2 threads, where two layers run
     * as a pipeline and where one layer's steps are split over a team (counting the workers' allocations too; the
     * team's parts, while they were lambdas, cost 143 bytes per step): in the shared test JVM the kernels may just
     * have been deoptimised by another test's shapes (a branch the profile had never seen), and until C2 compiles
     * them again they run in C1, where every vector is a heap object. A vector that crosses a call C2 does not
     * inline is boxed at every step (VectorBoundaryTest).
     */
    @Test
    void allocatesNoBufferPerStep() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                AllocationProbe.class.getName()).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "probe did not finish");
        assertEquals(0, p.exitValue(), out);
        for (String path : List.of("standard", "general", "pipelined", "team")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytes per step, " + path + ": (\\d+)")
                    .matcher(out);
            assertTrue(m.find(), out);
            long bytes = Long.parseLong(m.group(1));
            assertTrue(bytes < 512, () -> "bytes allocated per extra time step (forward + backward, 2 layers, "
                    + path + " kernels): " + out);
        }
    }

    /**
     * Run by {@link #allocatesNoBufferPerStep} in its own JVM; prints the bytes allocated per extra time step for the
     * standard and the general pointwise kernels. Both run in every round (as in a JVM that uses both), until both
     * are under the bound or 60 s have passed.
     */
    public static final class AllocationProbe {
        public static void main(String[] args) {
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            LstmSpec standard = LstmSpec.builder(8, 32).numLayers(2).peepholes(true).build();
            LstmSpec general = LstmSpec.builder(8, 33).numLayers(2).peepholes(true).inputForget(true).clip(0.8)
                    .cellClip(0.9).activations(dev.lstm4j.lstm.Activation.parse("HardSigmoid"),
                            dev.lstm4j.lstm.Activation.parse("LeakyRelu(0.1)"),
                            dev.lstm4j.lstm.Activation.parse("Softsign")).build();
            try (Arena arena = Arena.ofConfined();
                 Probe a = new Probe(arena, standard, 1);
                 Probe b = new Probe(arena, general, 1);
                 Probe c = new Probe(arena, standard, 2);
                 // one layer, one batch chunk, 2 threads: each step's GEMM and pointwise pass split over a team
                 Probe e = new Probe(arena, LstmSpec.builder(8, 32).peepholes(true).build(), 2)) {
                if (!c.fast.plan().pipelined(8)) {
                    throw new AssertionError("the 2-thread probe must run the layer pipeline");
                }
                long deadline = System.nanoTime() + 60_000_000_000L;
                while ((a.perStep >= 512 || b.perStep >= 512 || c.perStep >= 512 || e.perStep >= 512)
                        && System.nanoTime() < deadline) {
                    for (int w = 0; w < 200; w++) {
                        a.warm();
                        b.warm();
                        c.warm();
                        e.warm();
                    }
                    a.measure(mx);
                    b.measure(mx);
                    c.measure(mx);
                    e.measure(mx);
                }
                System.out.println("bytes per step, standard: " + Math.max(0, a.perStep));
                System.out.println("bytes per step, general: " + Math.max(0, b.perStep));
                System.out.println("bytes per step, pipelined: " + Math.max(0, c.perStep));
                System.out.println("bytes per step, team: " + Math.max(0, e.perStep));
            }
        }

        /** One spec's backend, parameters and inputs of 4 and 64 time steps. */
        private static final class Probe implements AutoCloseable {
            final LstmParams p;
            final FastCpuBackend fast;
            final Tensor x4, x64, dy4, dy64;
            long perStep = Long.MAX_VALUE;

            Probe(Arena arena, LstmSpec spec, int threads) {
                p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 1);
                fast = new FastCpuBackend(spec, threads);
                int h = spec.hiddenSize();
                x4 = random(arena, Shape.of(4, 8, 8), 1);
                x64 = random(arena, Shape.of(64, 8, 8), 2);
                dy4 = random(arena, Shape.of(4, 8, h), 3);
                dy64 = random(arena, Shape.of(64, 8, h), 4);
            }

            void warm() {
                step(fast, p, x4, dy4);
                step(fast, p, x64, dy64);
            }

            void measure(com.sun.management.ThreadMXBean mx) {
                long short4 = allocated(mx, () -> step(fast, p, x4, dy4));
                long long64 = allocated(mx, () -> step(fast, p, x64, dy64));
                perStep = (long64 - short4) / 60;
            }

            @Override
            public void close() {
                fast.close();
                p.close();
            }
        }
    }

    private static void step(FastCpuBackend fast, LstmParams p, Tensor x, Tensor dy) {
        try (LstmOutput y = fast.forward(p, LstmInput.of(x).training(true));
             LstmGradients g = fast.backward(p, y, dy, null, null)) {
            // one element, not toFloatArray(): a [T, B, I] copy would itself add 256 bytes per step to the measure
            assertTrue(Double.isFinite(g.input().getFlat(0)));
        }
    }

    /** Average heap bytes the current thread allocates per run of {@code r}, over 20 runs. */
    /** Bytes allocated per run by the calling thread and the backends' worker threads together. */
    private static long allocated(com.sun.management.ThreadMXBean mx, Runnable r) {
        long[] ids = java.util.stream.Stream.concat(Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("lstm4j-cpu-")),
                        java.util.stream.Stream.of(Thread.currentThread()))
                .mapToLong(Thread::threadId).toArray();
        long before = java.util.Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum();
        for (int i = 0; i < 20; i++) r.run();
        return (java.util.Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum() - before) / 20;
    }

    @Test
    void edgeShapes() {
        LstmSpec spec = LstmSpec.builder(2, 33).build(); // 33: two full vectors and a 1-lane tail (AVX-512)
        try (Arena arena = Arena.ofConfined();
             LstmParams p = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 1);
             FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            for (int[] tb : new int[][] {{1, 1}, {1, 5}, {300, 1}, {3, 3}}) {
                Tensor x = random(arena, Shape.of(tb[0], tb[1], 2), 9);
                try (LstmOutput y = fast.forward(p, LstmInput.of(x))) {
                    for (float v : y.output().toFloatArray()) {
                        assertTrue(Float.isFinite(v) && Math.abs(v) <= 1f, "h = o * tanh(c) lies in [-1, 1]");
                    }
                }
            }
        }
    }

    private static float[] trainingStep(Arena arena, FastCpuBackend fast, LstmParams p, int t, int batch) {
        LstmSpec spec = p.spec();
        Tensor x = random(arena, Shape.of(t, batch, spec.inputSize()), t * 31L + batch);
        Tensor dy = random(arena, LstmShapes.outputShape(spec, t, batch), t * 17L + batch);
        try (LstmOutput y = fast.forward(p, LstmInput.of(x).training(true));
             LstmGradients g = fast.backward(p, y, dy, null, null)) {
            return g.input().toFloatArray();
        }
    }

    private static Tensor random(Arena arena, Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(arena, DType.FLOAT32, shape);
        for (long k = 0; k < t.elementCount(); k++) t.setFlat(k, r.nextDouble(-1, 1));
        return t;
    }
}
