package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fast float32 backend against the float64 reference, for every variant the spec allows: forward (output, h_n,
 * c_n) and every gradient (input, h0, c0, each parameter), on the same float32-representable data.
 *
 * <p>Sizes: H = 7 lies inside one vector (every lane a tail lane); H = 20 and 33 add whole vectors.
 *
 * <p>Tolerances. Both sides see the same inputs and weights (rounded to float32 first), so the difference is the
 * fast backend's float32 rounding alone. One step rounds each GEMM dot product of K <= 70 terms of size
 * <= 1 (worst case K * 2^-24 * sum|terms| ~ 4e-6, typically sqrt(K) * 2^-24 ~ 5e-7) and a few activations (the
 * kernels' exp, VectorExp, within 7.5e-8 relative, and their tanh as 1 - 2 / (1 + e^2x): at most 1.8e-7 absolute;
 * the Vector API's functions for the other activations); over T = 6
 * dependent steps with contracting gates that stays a few 1e-7 typically and below
 * ~5e-6 in the worst case for O(1) outputs, so forward values must agree to {@value #FORWARD_TOL} absolute.
 * Gradients additionally sum over T * B = 24 (batch, step) terms per weight and flow back through the T steps, so
 * they must agree to {@value #GRAD_TOL} relative to the largest magnitude of that tensor (at least 1). Observed, worst
 * over every case: 3.0e-7 forward and 7.3e-7 for gradients (6.2e-7 with VectorExp's earlier series, 6.5e-7 with the
 * Vector API's exp in the standard kernels). A sign error, a missing term or a wrong step is
 * O(0.01..1) wrong and fails by orders of magnitude.
 *
 * <p>Where this machine cannot run the packed kernel ({@link PackedGemm#USABLE}: SSE, or NEON on aarch64), every
 * GEMM runs on OpenBLAS and no layers are pipelined; these tests then check that path against the reference instead.
 */
class FastCpuBackendEquivalenceTest {
    static final double FORWARD_TOL = 5e-6;
    static final double GRAD_TOL = 2e-5;
    static final int I = 5;
    static final int H = 7; // not a multiple of the vector length: exercises the masked tails
    static final int T = 6;
    static final int B = 4;

    @BeforeAll
    static void openBlasLoads() {
        assertTrue(OpenBlas.isLoaded(), () -> "OpenBLAS must load on this platform: " + OpenBlas.loadFailure());
    }

    static Stream<Arguments> variants() {
        List<Arguments> v = new ArrayList<>();
        LstmSpec.Builder base = LstmSpec.builder(I, H);
        v.add(Arguments.of("standard", base.build(), Opts.NONE));
        v.add(Arguments.of("two layers", LstmSpec.builder(I, H).numLayers(2).build(), Opts.NONE));
        // hidden sizes with whole vectors (AVX-512: 16 lanes) and a tail, for both the standard and general kernels
        v.add(Arguments.of("H=20 peepholes bidirectional lengths",
                LstmSpec.builder(I, 20).peepholes(true).bidirectional(true).build(), Opts.ALL));
        v.add(Arguments.of("H=33 two layers", LstmSpec.builder(I, 33).numLayers(2).build(), Opts.STATE));
        // packed recurrent GEMM: 4H = 180 is 5 whole panels of 32 and 20 tail columns, P = 37 one panel and 5
        v.add(Arguments.of("H=45 projection 37, packed panels and tails",
                LstmSpec.builder(I, 45).projSize(37).numLayers(2).build(), Opts.ALL));
        // the steps' projection on packed W_hr (StepProjection) into every other 37 columns of rows 74 wide
        v.add(Arguments.of("H=45 projection 37 bidirectional, packed W_hr and tails",
                LstmSpec.builder(I, 45).projSize(37).bidirectional(true).build(), Opts.ALL));
        // P = 70: two whole panels, so on 2 threads backward's step also runs on the team (pointwise split by rows,
        // one peephole-gradient accumulator per part); standard and general pointwise kernels
        v.add(Arguments.of("H=70 peepholes, team in backward",
                LstmSpec.builder(I, 70).peepholes(true).build(), Opts.ALL));
        v.add(Arguments.of("H=70 peepholes and cell clip, team in backward",
                LstmSpec.builder(I, 70).peepholes(true).cellClip(0.5).build(), Opts.ALL));
        v.add(Arguments.of("H=20 clip and cell clip", LstmSpec.builder(I, 20).clip(0.7).cellClip(0.5).build(),
                Opts.ALL));
        v.add(Arguments.of("bidirectional, lengths, h0/c0",
                LstmSpec.builder(I, H).numLayers(2).bidirectional(true).build(), Opts.ALL));
        v.add(Arguments.of("peepholes", LstmSpec.builder(I, H).peepholes(true).build(), Opts.STATE));
        v.add(Arguments.of("input-forget", LstmSpec.builder(I, H).inputForget(true).build(), Opts.STATE));
        v.add(Arguments.of("projection", LstmSpec.builder(I, H).projSize(3).numLayers(2).build(), Opts.STATE));
        v.add(Arguments.of("projection bidirectional lengths",
                LstmSpec.builder(I, H).projSize(3).bidirectional(true).build(), Opts.ALL));
        v.add(Arguments.of("clip", LstmSpec.builder(I, H).clip(0.4).build(), Opts.STATE));
        v.add(Arguments.of("cell clip", LstmSpec.builder(I, H).cellClip(0.3).build(), Opts.STATE));
        v.add(Arguments.of("clip and cell clip with peepholes",
                LstmSpec.builder(I, H).clip(0.5).cellClip(0.35).peepholes(true).build(), Opts.STATE));
        v.add(Arguments.of("activations HardSigmoid, Softsign, Elu", LstmSpec.builder(I, H)
                .activations(Activation.parse("HardSigmoid(0.2,0.5)"), Activation.parse("Softsign"),
                        Activation.parse("Elu(0.7)")).build(), Opts.STATE));
        v.add(Arguments.of("activations Sigmoid, LeakyRelu, Softplus", LstmSpec.builder(I, H)
                .activations(Activation.SIGMOID, Activation.parse("LeakyRelu(0.1)"), Activation.parse("Softplus"))
                .build(), Opts.STATE));
        v.add(Arguments.of("activations ScaledTanh, Relu, Affine", LstmSpec.builder(I, H)
                .activations(Activation.parse("ScaledTanh(0.9,1.1)"), Activation.parse("Relu"),
                        Activation.parse("Affine(0.5,0.1)")).build(), Opts.STATE));
        v.add(Arguments.of("activations Softsign, ThresholdedRelu, Tanh", LstmSpec.builder(I, H)
                .activations(Activation.parse("Softsign"), Activation.parse("ThresholdedRelu(0.1)"),
                        Activation.TANH).build(), Opts.STATE));
        v.add(Arguments.of("activations with clip", LstmSpec.builder(I, H).clip(0.6)
                .activations(Activation.parse("HardSigmoid"), Activation.parse("ScaledTanh(1.5,0.8)"),
                        Activation.parse("Softplus")).build(), Opts.ALL));
        v.add(Arguments.of("dropout", LstmSpec.builder(I, H).numLayers(3).dropout(0.25).build(), Opts.STATE));
        v.add(Arguments.of("batch-first with lengths",
                LstmSpec.builder(I, H).batchFirst(true).numLayers(2).build(), Opts.ALL));
        v.add(Arguments.of("everything", LstmSpec.builder(I, H).numLayers(2).bidirectional(true).projSize(4)
                .peepholes(true).inputForget(true).clip(0.8).cellClip(0.9).dropout(0.5).batchFirst(true)
                .activations(Activation.parse("HardSigmoid"), Activation.TANH, Activation.parse("Softsign"))
                .build(), Opts.ALL));
        return v.stream();
    }

    enum Opts {
        NONE(false, false), STATE(true, false), ALL(true, true);
        final boolean state;
        final boolean lengths;

        Opts(boolean state, boolean lengths) {
            this.state = state;
            this.lengths = lengths;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheFloat64Reference(String name, LstmSpec spec, Opts opts) {
        compare(spec, opts, B, T, 2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheReferenceWithBatchOneOnOneThread(String name, LstmSpec spec, Opts opts) {
        compare(spec, opts, 1, 3, 1);
    }

    /**
     * One row on 2 threads, where every step's product runs on OpenBLAS's sgemv from the weights as they are
     * (FastCpuPlan.gemvSteps): a lone recurrence of one layer (or of three) splits W_hh's over the team by its rows
     * forward and its columns backward; two layers run as the pipeline and bidirectional ones fuse their steps, each
     * step then two sgemv, on W_ih and on W_hh.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheReferenceWithBatchOneOnTwoThreads(String name, LstmSpec spec, Opts opts) {
        compare(spec, opts, 1, T, 2);
    }

    /**
     * One thread, weights past half of L2 (I = H = 200: 1.3 MB packed): the whole-sequence input projection and
     * h W_hh^T a step on this thread alone, where small weights fuse their steps (the test above); sequences of 4
     * steps and of one.
     */
    @Test
    void matchesTheReferenceOnOneThreadWithTheWholeSequenceProducts() {
        LstmSpec spec = LstmSpec.builder(200, 200).numLayers(2).peepholes(true).build();
        try (FastCpuBackend small = new FastCpuBackend(LstmSpec.builder(I, H).build(), 1);
             FastCpuBackend large = new FastCpuBackend(spec, 1)) {
            assertEquals(PackedGemm.USABLE, small.plan().fusesSteps(1),
                    "small weights fuse their steps on one thread, where the packed kernel runs");
            Assumptions.assumeFalse(large.plan().fusesSteps(3), "this machine's L2 (" + CacheSize.l2Bytes()
                    + " bytes) holds twice the 1.3 MB of packed weights, so no test spec takes the unfused path");
        }
        compare(spec, Opts.ALL, 3, 4, 1);
        // one step from a given state: g then holds no more rows than the step's own gates
        compare(spec, Opts.STATE, 3, 1, 1);
    }

    /**
     * A lone recurrence on weights too large to fuse (I = H = 256, projection 200, as below) with 8 rows: each step's
     * product split by panels over a team of 2, and after it, by rows, the pointwise step and the projection h = W_hr m
     * on packed W_hr (forward), dL/dm through W_hr and the pointwise backward (backward).
     */
    @Test
    void matchesTheReferenceOnATeamWithAProjection() {
        LstmSpec spec = LstmSpec.builder(256, 256).projSize(200).build();
        try (FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            Assumptions.assumeTrue(fast.plan().packed() && !fast.plan().fusesSteps(8)
                            && fast.plan().recurrences(8) == 1,
                    notOnThisMachine("a team's steps"));
        }
        compare(spec, Opts.ALL, 8, 4, 2);
    }

    /**
     * One row with weights too large to fuse (I = H = 256, projection 200: 1.9 MB of packed [W_ih W_hh], past 3/2
     * of these machines' L2; without projection 2 MB): W_hh's sgemv steps without a team, for each of two directions
     * on its own thread, and on one thread alone.
     */
    @Test
    void matchesTheReferenceWithBatchOneAndUnfusedWeightsWithoutATeam() {
        LstmSpec bidirectional = LstmSpec.builder(256, 256).bidirectional(true).projSize(200).build();
        LstmSpec oneWay = LstmSpec.builder(256, 256).peepholes(true).build();
        try (FastCpuBackend two = new FastCpuBackend(bidirectional, 2);
             FastCpuBackend one = new FastCpuBackend(oneWay, 1)) {
            Assumptions.assumeTrue(two.plan().gemvSteps(1, 4, false) && !two.plan().fusesSteps(1)
                            && !one.plan().fusesSteps(1),
                    notOnThisMachine("the unfused sgemv steps"));
        }
        compare(bidirectional, Opts.ALL, 1, 4, 2);
        compare(oneWay, Opts.ALL, 1, 4, 1);
        // one step of one row, as a service streams a sequence: the input projection and the input gradient of a
        // single row on sgemv too
        compare(bidirectional, Opts.STATE, 1, 1, 2);
        compare(oneWay, Opts.STATE, 1, 1, 1);
    }

    /**
     * A few rows and steps on weights too large to fuse and not frozen ({@link FastCpuPlan#readsWeightsPerRow}): each
     * step's products on sgemv a row at a time, W_hh not packed; a lone recurrence's team on two threads splitting
     * each row's outputs, two directions each on its own thread (with a projection), and one thread, with lengths and
     * an initial state, forward and every gradient.
     */
    @Test
    void matchesTheReferenceWithAFewRowsReadingUnfusedWeightsARowAtATime() {
        LstmSpec team = LstmSpec.builder(256, 256).build();
        LstmSpec bidirectional = LstmSpec.builder(256, 256).bidirectional(true).projSize(200).build();
        LstmSpec oneWay = LstmSpec.builder(256, 256).peepholes(true).build();
        try (FastCpuBackend two = new FastCpuBackend(team, 2);
             FastCpuBackend both = new FastCpuBackend(bidirectional, 2);
             FastCpuBackend one = new FastCpuBackend(oneWay, 1)) {
            Assumptions.assumeTrue(two.plan().readsWeightsPerRow(3, 2, false) && !two.plan().fusesSteps(3)
                            && two.plan().recurrences(3) == 1 && both.plan().readsWeightsPerRow(2, 3, false)
                            && !both.plan().fusesSteps(2) && one.plan().readsWeightsPerRow(4, 1, false)
                            && !one.plan().fusesSteps(4),
                    notOnThisMachine("the unfused row-at-a-time steps"));
        }
        compare(team, Opts.ALL, 3, 2, 2);
        compare(team, Opts.NONE, 2, 4, 2);
        compare(bidirectional, Opts.ALL, 2, 3, 2);
        compare(oneWay, Opts.ALL, 4, 1, 1);
        compare(oneWay, Opts.STATE, 2, 2, 1);
    }

    /**
     * Batch 64 on 4 threads: each direction's recurrence runs as two chunks of 32 rows on different threads (with one
     * direction, fused steps backward too).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("chunkedVariants")
    void matchesTheReferenceWhenTheBatchIsSplitAcrossThreads(String name, LstmSpec spec, Opts opts) {
        compare(spec, opts, 64, 3, 4);
    }

    /**
     * Batch 64 on 4 threads, two directions, weights too large to fuse (I = H = 256: 2 MB of packed [W_ih W_hh] a
     * direction, past 3/2 of these machines' L2; one direction's chunks would fuse on AMD processors): each
     * direction in two chunks of 32 rows, each on its own thread, each step's h W_hh^T plus the whole-sequence
     * projection's rows in its own rows of the Dir's one-step gates ({@link StepGemms#recurrentOnProjection});
     * variable lengths and training included.
     */
    @Test
    void matchesTheReferenceWhenUnfusedChunksGatherTheirStepsGates() {
        LstmSpec spec = LstmSpec.builder(256, 256).peepholes(true).bidirectional(true).build();
        try (FastCpuBackend fast = new FastCpuBackend(spec, 4)) {
            Assumptions.assumeTrue(fast.plan().packed() && fast.plan().recurrences(64) == 4
                            && !fast.plan().fusesSteps(64),
                    notOnThisMachine("unfused chunks"));
        }
        compare(spec, Opts.ALL, 64, 3, 4);
    }

    /**
     * Batch 64 on 2 threads, one direction, weights past 3/2 of L2 (I = H = 256: 2 MB) but within the bound up to
     * which a layer's batch chunks fuse on AMD processors ({@link FastCpuPlan#chunksFuseFromL3}): two chunks of 32
     * rows, each step one fused product on its own thread; variable lengths and training included. Elsewhere these
     * chunks take the whole-sequence projection, which the test above covers.
     */
    @Test
    void matchesTheReferenceWhenChunksFuseTheirStepsPastL2() {
        LstmSpec spec = LstmSpec.builder(256, 256).peepholes(true).build();
        try (FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            Assumptions.assumeTrue(fast.plan().packed() && fast.plan().recurrences(64) == 2
                            && fast.plan().fusesSteps(64) && !FastCpuPlan.fusedWeightsFitInCache(spec,
                            CacheSize.l2Bytes()),
                    "not chunks fused past L2 here: a processor other than AMD's (" + CpuVendor.vendor() + "), or"
                    + " an L2 of " + CacheSize.l2Bytes() + " bytes, where 2 MB of weights fuse anyway");
        }
        compare(spec, Opts.ALL, 64, 3, 2);
    }

    /**
     * A batch of 20 on 2 threads, on weights too large to fuse whose W_hh two chunks of 10 rows read from L3 on AMD
     * processors ({@link FastCpuPlan#MIN_CHUNK_ROWS_FROM_L3}): two layers on inputs of 2048 and H = 256 with
     * peepholes (9.4 MB of packed [W_ih W_hh], past the bound to which chunks fuse), each chunk's steps h W_hh^T on
     * its own thread plus the whole-sequence projection's rows; and I = H = 256 with a projection (1.9 MB), whose two
     * chunks fuse their steps. Variable lengths and training included.
     */
    @Test
    void matchesTheReferenceWithTwoChunksOfTenRowsReadingWhhFromL3() {
        LstmSpec unfused = LstmSpec.builder(2048, 256).numLayers(2).peepholes(true).build();
        LstmSpec fusing = LstmSpec.builder(256, 256).projSize(200).build();
        try (FastCpuBackend a = new FastCpuBackend(unfused, 2); FastCpuBackend b = new FastCpuBackend(fusing, 2)) {
            Assumptions.assumeTrue(a.plan().recurrences(20) == 2 && !a.plan().fusesSteps(20)
                            && b.plan().recurrences(20) == 2 && b.plan().fusesSteps(20),
                    "not two chunks of 10 rows reading W_hh from L3 here: a processor other than AMD's ("
                            + CpuVendor.vendor() + "), vectors of " + PackedGemm.LANES + " floats, or an L2 of "
                            + CacheSize.l2Bytes() + " bytes");
        }
        compare(unfused, Opts.ALL, 20, 3, 2);
        compare(fusing, Opts.ALL, 20, 3, 2);
    }

    static Stream<Arguments> chunkedVariants() {
        return Stream.of(
                Arguments.of("standard, peepholes, bidirectional", LstmSpec.builder(I, 20).peepholes(true)
                        .bidirectional(true).build(), Opts.ALL),
                Arguments.of("general kernel, projection", LstmSpec.builder(I, H).cellClip(0.4).projSize(3)
                        .peepholes(true).build(), Opts.ALL),
                // fused backward steps (dx_t from each step's GEMM) under dropout's mask, batch-first
                Arguments.of("two layers, dropout, batch-first", LstmSpec.builder(I, 20).numLayers(2).dropout(0.3)
                        .batchFirst(true).build(), Opts.ALL));
    }

    /**
     * More threads than this machine's 2 cores, as a user's machine has them (the default is every core): a lone
     * recurrence's step split over a team of up to 8 parts (4H = 280, 8 whole panels), 3 layers as a pipeline
     * (3 <= threads < 6) or on a team (from 6 threads), 2 and 4 batch chunks (64 and 130 rows), and the weight
     * gradients in up to 16 parts. The threads oversubscribe the cores here, which the team's parking is for.
     */
    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {3, 5, 8, 16})
    void matchesTheReferenceOnMoreThreadsThanCores(int threads) {
        LstmSpec threeLayers = LstmSpec.builder(I, 40).numLayers(3).peepholes(true).build();
        try (FastCpuBackend fast = new FastCpuBackend(threeLayers, threads)) {
            assertEquals(PackedGemm.USABLE && threads < 6, fast.plan().pipelined(7),
                    threads + " threads: pipelined 3 layers below 6 threads (with the packed kernel)");
        }
        compare(threeLayers, Opts.ALL, 7, T, threads);
        compare(LstmSpec.builder(I, 70).peepholes(true).build(), Opts.ALL, 4, T, threads);
        compare(LstmSpec.builder(I, 70).peepholes(true).cellClip(0.5).build(), Opts.ALL, 5, T, threads);
        compare(LstmSpec.builder(I, 40).numLayers(2).build(), Opts.ALL, 7, T, threads);
        compare(LstmSpec.builder(I, 20).peepholes(true).bidirectional(true).build(), Opts.ALL, 64, 3, threads);
        compare(LstmSpec.builder(I, 20).projSize(7).numLayers(2).build(), Opts.ALL, 130, 3, threads);
        compare(LstmSpec.builder(I, 70).bidirectional(true).numLayers(2).build(), Opts.ALL, 3, 4, threads);
    }

    /**
     * Layers as a pipeline (one thread per layer, one fused [x h] [W_ih W_hh] GEMM per step): 13 rows (an 8-row
     * block, a 4-row one and a single row), dropout between layers, an input wider and one narrower than the layers'
     * output, n = 4H below one panel (only the padded last panel) and I + P straddling two.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pipelinedVariants")
    void matchesTheReferenceWhenTheLayersRunAsAPipeline(String name, LstmSpec spec, Opts opts) {
        int threads = spec.numLayers();
        try (FastCpuBackend fast = new FastCpuBackend(spec, threads)) {
            assertEquals(PackedGemm.USABLE, fast.plan().pipelined(13),
                    () -> name + ": the pipelined path on " + threads + " threads, where the packed kernel runs");
        }
        compare(spec, opts, 13, T, threads);
    }

    /**
     * Edge shapes on each way a step can run on 2 threads: one step, one row, 64 steps (64 handoffs between pipeline
     * stages), and 65 rows (two batch chunks of 32 and 33, fused steps). Specs: one layer (a team per step), two
     * layers (the pipeline, or chunks), bidirectional (fused steps per direction).
     */
    @ParameterizedTest(name = "T={0} B={1}")
    @CsvSource({"1, 1", "1, 5", "64, 1", "3, 65"})
    void matchesTheReferenceAtEdgeShapes(int seqLength, int batch) {
        compare(LstmSpec.builder(I, 33).build(), Opts.ALL, batch, seqLength, 2);
        compare(LstmSpec.builder(I, 20).numLayers(2).peepholes(true).build(), Opts.ALL, batch, seqLength, 2);
        compare(LstmSpec.builder(I, H).bidirectional(true).projSize(5).build(), Opts.ALL, batch, seqLength, 2);
    }

    /**
     * The whole-sequence input projection X W_ih^T on 2 threads, split both ways: by rows of X where T * B >= 4H (40
     * rows, 4H = 28), by columns where T * B < 4H (12 rows, 4H = 80); and the input gradient dA W_ih beside it. One
     * direction (one batch chunk, so that neither fused steps nor the pipeline take these products into the steps),
     * and two with every GEMM on OpenBLAS (which fuses no steps; the reverse direction's dX adds to the forward
     * one's).
     */
    @Test
    void matchesTheReferenceWithTheInputProductsSplitByRowsAndByColumns() {
        for (RecurrentGemm gemm : RecurrentGemm.values()) {
            for (boolean bidirectional : new boolean[] {false, true}) {
                if (gemm == RecurrentGemm.PACKED && bidirectional) continue; // its directions fuse their steps
                LstmSpec narrow = LstmSpec.builder(32, H).peepholes(true).bidirectional(bidirectional).build();
                LstmSpec wide = LstmSpec.builder(40, 20).bidirectional(bidirectional).build();
                try (FastCpuBackend a = new FastCpuBackend(narrow, 2, gemm);
                     FastCpuBackend b = new FastCpuBackend(wide, 2, gemm)) {
                    assertFalse(a.plan().projectsByColumns(40), "40 rows: by rows");
                    assertTrue(b.plan().projectsByColumns(12), "12 rows: by columns");
                    assertFalse(a.plan().fusesSteps(4) || b.plan().fusesSteps(1),
                            gemm + ": the products over the whole sequence");
                }
                compare(narrow, Opts.ALL, 4, 10, 2, gemm);
                compare(wide, Opts.ALL, 1, 12, 2, gemm);
            }
        }
    }

    /**
     * The input projection and the input gradient on the packed kernel ({@link WholeSequenceProducts}), forward and
     * every gradient: 80 rows split by panels between 2 threads (the partial last panels, of 4H = 84 and I = 30, with
     * the second), and 576 rows split by rows (each thread's 288 in chunks). One direction and one batch chunk, so
     * that no step is fused.
     */
    @Test
    void matchesTheReferenceWithTheWholeSequenceProductsOnThePackedKernel() {
        LstmSpec spec = LstmSpec.builder(30, 21).peepholes(true).build();
        try (FastCpuBackend fast = new FastCpuBackend(spec, 2)) {
            assumeTrue(PackedGemm.USABLE, "the packed kernel needs vectors of 8 floats or more");
            assertTrue(fast.plan().sequenceProductsOnPackedKernel());
            assertFalse(fast.plan().fusesSteps(8) || fast.plan().fusesSteps(16), "the whole-sequence projection");
        }
        compare(spec, Opts.ALL, 8, 10, 2);
        compare(spec, Opts.STATE, 16, 36, 2);
    }

    static Stream<Arguments> pipelinedVariants() {
        return Stream.of(
                Arguments.of("2 layers, dropout, peepholes, cell clip", LstmSpec.builder(I, 20).numLayers(2)
                        .dropout(0.3).peepholes(true).cellClip(0.5).build(), Opts.ALL),
                Arguments.of("3 layers, I = 40 > P, projection", LstmSpec.builder(40, H).numLayers(3).projSize(5)
                        .build(), Opts.ALL),
                Arguments.of("batch-first, general activations, clip", LstmSpec.builder(3, 33).numLayers(2)
                        .batchFirst(true).clip(0.9).activations(Activation.parse("HardSigmoid"),
                                Activation.parse("Softsign"), Activation.TANH).build(), Opts.ALL));
    }

    /**
     * Every variant with each step's GEMMs on OpenBLAS ({@link RecurrentGemm#BLAS}): the path machines without
     * 8-float vectors take, which the packed kernel otherwise hides on this one.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheReferenceWithEveryGemmOnOpenBlas(String name, LstmSpec spec, Opts opts) {
        try (FastCpuBackend fast = new FastCpuBackend(spec, 2, RecurrentGemm.BLAS)) {
            assertTrue(!fast.plan().pipelined(B), "the BLAS setting must not pipeline the layers");
        }
        compare(spec, opts, B, T, 2, RecurrentGemm.BLAS);
    }

    /**
     * Biases of 50 to 100 in magnitude, either sign: every gate saturates, at exactly 0 or 1 (sigmoid) and -1 or 1
     * (tanh), and in the standard kernels exp(-x) and e^2x overflow to infinity for some units and underflow to 0 for
     * others. Large weights would test this too, but they multiply the GEMMs' rounding; the bias enters once. H = 20
     * and 32: a vector with and without a tail.
     */
    @ParameterizedTest(name = "H={0}")
    @ValueSource(ints = {20, 32})
    void matchesTheReferenceWhenTheGatesSaturate(int hidden) {
        compare(LstmSpec.builder(I, hidden).peepholes(true).build(), Opts.ALL, B, T, 2, RecurrentGemm.PACKED, true);
    }

    /**
     * Why a case about weights of about 2 MB (I = H = 256) did not run its path on this machine: no packed kernel
     * without 8-float vectors, and an L2 large enough fuses such weights.
     */
    private static String notOnThisMachine(String path) {
        return "not " + path + " here: vectors of " + PackedGemm.LANES + " floats (fewer than 8: no packed kernel),"
                + " or an L2 of " + CacheSize.l2Bytes() + " bytes, where about 2 MB of weights fuse";
    }

    static void compare(LstmSpec spec, Opts opts, int batch, int seqLength, int threads) {
        compare(spec, opts, batch, seqLength, threads, RecurrentGemm.PACKED);
    }

    static void compare(LstmSpec spec, Opts opts, int batch, int seqLength, int threads, RecurrentGemm gemm) {
        compare(spec, opts, batch, seqLength, threads, gemm, false);
    }

    /** @param saturatingBias b_ih of magnitude 50 to 100 (random signs) instead of the initializer's */
    static void compare(LstmSpec spec, Opts opts, int batch, int seqLength, int threads, RecurrentGemm gemm,
                        boolean saturatingBias) {
        try (Arena arena = Arena.ofConfined();
             LstmParams p32 = LstmParams.initialized(spec, DType.FLOAT32, Initializer.pytorchUniform(), 11);
             LstmParams p64 = p32.to(DType.FLOAT64);
             LstmBackend ref = new ReferenceBackend(spec, DType.FLOAT64);
             LstmBackend fast = new FastCpuBackend(spec, threads, gemm)) {
            if (spec.peepholes()) {
                // the initializer may leave peepholes at zero; give them weight so that their terms count
                for (int l = 0; l < spec.numLayers(); l++) {
                    for (int d = 0; d < spec.numDirections(); d++) {
                        fill(p32.weightPeep(l, d), new SplittableRandom(l * 7L + d), 0.5);
                    }
                }
                p64.copyFrom(p32);
            }
            if (saturatingBias) {
                SplittableRandom b = new SplittableRandom(17);
                for (int l = 0; l < spec.numLayers(); l++) {
                    for (int d = 0; d < spec.numDirections(); d++) {
                        Tensor bias = p32.biasIh(l, d);
                        for (long k = 0; k < bias.elementCount(); k++) {
                            bias.setFlat(k, (b.nextBoolean() ? 1 : -1) * (50 + 50 * b.nextDouble()));
                        }
                    }
                }
                p64.copyFrom(p32);
            }
            SplittableRandom r = new SplittableRandom(42);
            int in = spec.inputSize();
            Shape xShape = spec.batchFirst() ? Shape.of(batch, seqLength, in) : Shape.of(seqLength, batch, in);
            Pair x = Pair.random(arena, xShape, r, 1.0);
            Pair h0 = opts.state ? Pair.random(arena, LstmShapes.hiddenStateShape(spec, batch), r, 0.5) : null;
            Pair c0 = opts.state ? Pair.random(arena, LstmShapes.cellStateShape(spec, batch), r, 0.5) : null;
            int[] lengths = null;
            if (opts.lengths) {
                lengths = new int[batch];
                for (int b = 0; b < batch; b++) lengths[b] = b == 0 ? seqLength : 1 + r.nextInt(seqLength);
            }
            LstmInput in64 = LstmInput.of(x.f64).training(true).withDropoutSeed(5);
            LstmInput in32 = LstmInput.of(x.f32).training(true).withDropoutSeed(5);
            if (h0 != null) {
                in64 = in64.withInitialState(h0.f64, c0.f64);
                in32 = in32.withInitialState(h0.f32, c0.f32);
            }
            if (lengths != null) {
                in64 = in64.withLengths(lengths);
                in32 = in32.withLengths(lengths);
            }
            Pair dy = Pair.random(arena, LstmShapes.outputShape(spec, seqLength, batch), r, 1.0);
            Pair dhN = Pair.random(arena, LstmShapes.hiddenStateShape(spec, batch), r, 1.0);
            Pair dcN = Pair.random(arena, LstmShapes.cellStateShape(spec, batch), r, 1.0);
            // inference mode (no dropout, nothing kept) computes the same forward; first, so that it runs in a
            // workspace of its own (a training one, once made, serves inference calls too)
            try (LstmOutput y64 = ref.forward(p64, in64.training(false));
                 LstmOutput y32 = fast.forward(p32, in32.training(false))) {
                assertClose("inference output", y64.output(), y32.output(), FORWARD_TOL, false);
                assertClose("inference h_n", y64.hN(), y32.hN(), FORWARD_TOL, false);
                assertClose("inference c_n", y64.cN(), y32.cN(), FORWARD_TOL, false);
            }
            try (LstmOutput y64 = ref.forward(p64, in64); LstmOutput y32 = fast.forward(p32, in32)) {
                assertClose("output", y64.output(), y32.output(), FORWARD_TOL, false);
                assertClose("h_n", y64.hN(), y32.hN(), FORWARD_TOL, false);
                assertClose("c_n", y64.cN(), y32.cN(), FORWARD_TOL, false);
                try (LstmGradients g64 = ref.backward(p64, y64, dy.f64, dhN.f64, dcN.f64);
                     LstmGradients g32 = fast.backward(p32, y32, dy.f32, dhN.f32, dcN.f32)) {
                    assertClose("d input", g64.input(), g32.input(), GRAD_TOL, true);
                    assertClose("d h0", g64.h0(), g32.h0(), GRAD_TOL, true);
                    assertClose("d c0", g64.c0(), g32.c0(), GRAD_TOL, true);
                    for (String n : spec.parameterNames()) {
                        assertClose("d " + n, g64.params().get(n), g32.params().get(n), GRAD_TOL, true);
                    }
                }
            }
        }
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double tol, boolean relativeToMax) {
        assertEquals(expected.shape(), actual.shape(), what + " shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double scale = relativeToMax ? Math.max(1, Fixtures.maxAbs(expected)) : 1;
        int where = Fixtures.worstIndex(e, a);
        double err = where < 0 ? 0 : Math.abs(e[where] - a[where]); // NaN fails the comparison below
        double limit = tol * scale;
        assertTrue(err <= limit, () -> what + ": max |fast - reference| = " + err + " at flat index " + where
                + " (reference " + e[where] + ", fast " + a[where] + "), allowed " + limit);
    }

    static void fill(Tensor t, SplittableRandom r, double scale) {
        for (long k = 0; k < t.elementCount(); k++) t.setFlat(k, (float) r.nextDouble(-scale, scale));
    }

    /** The same float32-representable values as a float64 and a float32 tensor. */
    record Pair(Tensor f64, Tensor f32) {
        static Pair random(Arena arena, Shape shape, SplittableRandom r, double scale) {
            Tensor f32 = Tensor.zeros(arena, DType.FLOAT32, shape);
            fill(f32, r, scale);
            return new Pair(f32.to(DType.FLOAT64, arena), f32);
        }
    }
}
