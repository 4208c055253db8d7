package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lstm4j.lstm.LstmSpec;
import org.junit.jupiter.api.Test;

/**
 * Which layers take fused steps (and, unidirectional and stacked, the layer pipeline) on the two L2 sizes the rule
 * was measured on: the decisions FastCpuBackend's comment reports as the faster side on each machine.
 */
class FusedStepsRuleTest {
    private static final long ZEN4_L2 = 1L << 20;  // AMD Zen 4: 1 MiB per core
    private static final long INTEL_L2 = 2L << 20; // the Intel VM: 2 MiB per core

    private static final LstmSpec SEED_MNIST = LstmSpec.builder(28, 128).build();                  // 0.3 MB
    private static final LstmSpec PTB_SMALL = LstmSpec.builder(200, 200).numLayers(2).build();     // 1.3 MB per layer
    private static final LstmSpec LARGE_BATCH = LstmSpec.builder(256, 512).build();                // 6.3 MB
    private static final LstmSpec PTB_MEDIUM = LstmSpec.builder(650, 650).numLayers(2).build();    // 13.5 MB per layer

    @Test
    void zen4() {
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(SEED_MNIST, ZEN4_L2));
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(PTB_SMALL, ZEN4_L2),
                "ptb-small ran 9 % faster as a pipeline on Zen 4 though its weights are 1.3 times L2");
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(PTB_MEDIUM, ZEN4_L2));
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(LARGE_BATCH, ZEN4_L2));
    }

    /** With 512 KiB of L2 the bound stays at 1.5 MiB, which ptb-small's pipeline (1.3 MB a layer) measured ahead. */
    @Test
    void zen3() {
        long zen3L2 = 512L << 10;
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(SEED_MNIST, zen3L2));
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(PTB_SMALL, zen3L2),
                "ptb-small's training ran 8-15 % faster as a pipeline on the Zen 3 VM");
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(LstmSpec.builder(256, 256).numLayers(2).build(), zen3L2),
                "2 MB a layer is past the least bound");
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(LARGE_BATCH, zen3L2));
    }

    @Test
    void zen3RunsPtbSmallAsThePipeline() {
        assumeTrue(PackedGemm.USABLE, "without 8-float vectors nothing fuses");
        FastCpuPlan plan = new FastCpuPlan(PTB_SMALL, 2, RecurrentGemm.PACKED, CpuVendor.AMD, 512L << 10);
        assertTrue(plan.pipelined(20));
        assertEquals(FastCpuWorkspace.Layout.PIPELINED, plan.layout());
    }

    @Test
    void intel() {
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(SEED_MNIST, INTEL_L2));
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(PTB_SMALL, INTEL_L2));
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(LARGE_BATCH, INTEL_L2),
                "large-batch was 10 % slower fused on the Intel VM");
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(PTB_MEDIUM, INTEL_L2),
                "ptb-medium was 20 % slower as a pipeline on the Intel VM");
    }

    /**
     * Past the L2 bound, a unidirectional layer's batch chunks still fuse on AMD processors, up to 8 times L2:
     * large-batch was 6-7 % faster fused on the Zen 5 VM, level on the Zen 4; on the Intel VM 10 % slower, so not
     * there. Not two directions, not the pipeline, not ptb-medium's 13.5 MB.
     */
    @Test
    void batchChunksFuseFromL3OnAmdProcessors() {
        assertTrue(FastCpuPlan.chunksFuseFromL3(LARGE_BATCH, CpuVendor.AMD, ZEN4_L2));
        assertFalse(FastCpuPlan.chunksFuseFromL3(LARGE_BATCH, "GenuineIntel", INTEL_L2));
        assertFalse(FastCpuPlan.chunksFuseFromL3(PTB_MEDIUM, CpuVendor.AMD, ZEN4_L2));
        assertFalse(FastCpuPlan.chunksFuseFromL3(LstmSpec.builder(256, 512).bidirectional(true).build(),
                CpuVendor.AMD, ZEN4_L2));
        assumeTrue(PackedGemm.USABLE, "without 8-float vectors nothing fuses");
        FastCpuPlan amd = new FastCpuPlan(LARGE_BATCH, 2, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2);
        assertTrue(amd.fusesSteps(64), "two chunks of 32 rows: fused");
        assertTrue(amd.fusesSteps(20), "two chunks of 10 rows (W_hh within 8 times L2): fused");
        assertFalse(amd.fusesSteps(19), "one chunk: the team's steps on the projection");
        assertFalse(amd.everyCallFuses());
        assertEquals(FastCpuWorkspace.Layout.FUSED, amd.layout());
        FastCpuPlan intel = new FastCpuPlan(LARGE_BATCH, 2, RecurrentGemm.PACKED, "GenuineIntel", INTEL_L2);
        assertFalse(intel.fusesSteps(64));
        assertEquals(FastCpuWorkspace.Layout.PLAIN, intel.layout());
        FastCpuPlan twoLayers = new FastCpuPlan(LstmSpec.builder(256, 512).numLayers(2).build(), 2,
                RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2);
        assertFalse(twoLayers.pipelines(), "the pipeline keeps the L2 bound");
    }

    /**
     * On 2 threads, weights too large to fuse whose packed W_hh is within 8 times L2 (AMD) split a batch of 20 rows
     * or more into two chunks, each reading W_hh from L3 on its own thread, instead of splitting each step over a
     * team (ptb-medium's B = 20: inference 2-7 % faster, training about 5 % on the Zen 5 VM). Not ptb-large's
     * 36 MB of W_hh (10 % slower), not on more threads (the team keeps them all busy), not two directions, not
     * where unmeasured (Intel), not weights that fuse (ptb-small keeps its pipeline), not on OpenBLAS.
     */
    @Test
    void twoThreadsSplitTwentyRowsIntoChunksThatReadWhhFromL3() {
        LstmSpec ptbLarge = LstmSpec.builder(1500, 1500).numLayers(2).build();
        assertTrue(FastCpuPlan.chunksReadWhhFromL3(PTB_MEDIUM, CpuVendor.AMD, ZEN4_L2));
        assertFalse(FastCpuPlan.chunksReadWhhFromL3(ptbLarge, CpuVendor.AMD, ZEN4_L2));
        assertFalse(FastCpuPlan.chunksReadWhhFromL3(PTB_MEDIUM, "GenuineIntel", INTEL_L2));
        assertFalse(FastCpuPlan.chunksReadWhhFromL3(LstmSpec.builder(650, 650).bidirectional(true).build(),
                CpuVendor.AMD, ZEN4_L2));
        assumeTrue(PackedGemm.USABLE, "without 8-float vectors the steps run on OpenBLAS in chunks of 32 rows");
        FastCpuPlan medium = new FastCpuPlan(PTB_MEDIUM, 2, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2);
        assertEquals(2, medium.chunks(20));
        assertEquals(1, medium.chunks(19), "chunks of 9 rows measured no faster");
        assertEquals(2, medium.recurrences(20));
        assertFalse(medium.fusesSteps(20), "13.5 MB of [W_ih W_hh]: past the bound to fuse chunks");
        assertEquals(2, medium.chunks(64), "never more chunks than threads");
        assertEquals(1, new FastCpuPlan(ptbLarge, 2, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2).chunks(20));
        assertEquals(1, new FastCpuPlan(PTB_MEDIUM, 4, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2).chunks(20));
        assertEquals(1, new FastCpuPlan(PTB_MEDIUM, 3, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2).chunks(20));
        assertEquals(1, new FastCpuPlan(PTB_MEDIUM, 2, RecurrentGemm.PACKED, "GenuineIntel", INTEL_L2).chunks(20));
        assertEquals(1, new FastCpuPlan(PTB_MEDIUM, 2, RecurrentGemm.BLAS, CpuVendor.AMD, ZEN4_L2).chunks(20));
        FastCpuPlan small = new FastCpuPlan(PTB_SMALL, 2, RecurrentGemm.PACKED, CpuVendor.AMD, ZEN4_L2);
        assertEquals(1, small.chunks(20));
        assertTrue(small.pipelined(20), "ptb-small's layers stay a pipeline");
    }

    @Test
    void aLoneRecurrenceOnOneThreadFusesWhereTheWeightsFitHalfOfL2() {
        assertTrue(FastCpuPlan.loneRecurrenceFuses(SEED_MNIST, ZEN4_L2), "seed-mnist training was 6 % faster fused");
        assertFalse(FastCpuPlan.loneRecurrenceFuses(PTB_SMALL, ZEN4_L2), "ptb-small: no faster fused on Zen 4");
        assertTrue(FastCpuPlan.loneRecurrenceFuses(SEED_MNIST, INTEL_L2), "seed-mnist was 10 % faster fused");
        assertFalse(FastCpuPlan.loneRecurrenceFuses(PTB_SMALL, INTEL_L2),
                "ptb-small inference was 8-12 % slower fused on the Intel VM");
    }

    /**
     * Steps of one row run on sgemv from the weights as they are, on every path (a lone recurrence's team, fused
     * steps of two directions or of one thread, weights past half of L2 on one thread); not with more rows on weights
     * small enough to fuse, not with every GEMM on OpenBLAS's sgemm by request, not for frozen parameters small
     * enough to fuse (packed once).
     */
    @Test
    void oneRowStepsRunOnSgemv() {
        LstmSpec small = LstmSpec.builder(8, 33).build();
        try (FastCpuBackend twoThreads = new FastCpuBackend(small, 2);
             FastCpuBackend oneThread = new FastCpuBackend(small, 1);
             FastCpuBackend bidirectional = new FastCpuBackend(LstmSpec.builder(8, 33).bidirectional(true).build(), 2);
             FastCpuBackend pipeline = new FastCpuBackend(LstmSpec.builder(8, 33).numLayers(2).build(), 2);
             FastCpuBackend largeOnOne = new FastCpuBackend(LstmSpec.builder(400, 400).build(), 1);
             FastCpuBackend blas = new FastCpuBackend(small, 2, RecurrentGemm.BLAS)) {
            assumeTrue(PackedGemm.USABLE, "without 8-float vectors every GEMM runs on OpenBLAS's sgemm");
            assertTrue(twoThreads.plan().gemvSteps(1, 1, false), "a lone recurrence's team");
            assertFalse(twoThreads.plan().gemvSteps(2, 1, false), "two rows on small weights: the packed kernel");
            assertTrue(oneThread.plan().fusesSteps(1) && oneThread.plan().gemvSteps(1, 1, false),
                    "one thread, small weights: fused steps");
            assertTrue(bidirectional.plan().fusesSteps(1) && bidirectional.plan().gemvSteps(1, 1, false),
                    "two directions: fused steps");
            assertTrue(pipeline.plan().pipelined(1) && pipeline.plan().gemvSteps(1, 1, false), "two layers: the pipeline");
            assertTrue(largeOnOne.plan().gemvSteps(1, 1, false), "one thread, weights past half of L2: unfused");
            assertFalse(blas.plan().gemvSteps(1, 1, false), "every GEMM on sgemm, as asked");
            assertFalse(twoThreads.plan().gemvSteps(1, 1, true), "frozen small weights: packed once, the packed kernel");
            assertFalse(pipeline.plan().gemvSteps(1, 1, true), "frozen small weights in the pipeline: the packed kernel");
            assertTrue(largeOnOne.plan().gemvSteps(1, 1, true), "frozen weights too large to fuse: sgemv");
        }
    }

    /**
     * A call of 2 to 4 rows whose (rows - 1) x steps is at most 4, on weights too large to fuse and not frozen, reads
     * them a row at a time on sgemv instead of packing W_hh (every such call would pack it); not past that bound,
     * not on frozen weights (packed once), not on weights small enough to fuse (cheap to pack, the packed kernel).
     */
    @Test
    void aFewRowsAndStepsOnWeightsPackedPerCallReadThemARowAtATime() {
        try (FastCpuBackend large = new FastCpuBackend(LstmSpec.builder(400, 400).build(), 2);
             FastCpuBackend small = new FastCpuBackend(LstmSpec.builder(8, 33).build(), 2)) {
            assumeTrue(PackedGemm.USABLE, "without 8-float vectors every GEMM runs on OpenBLAS's sgemm");
            assumeTrue(!large.plan().fusesSteps(2), "weights of 400 x 400 fuse on this machine's L2 of "
                    + CacheSize.l2Bytes() + " bytes");
            FastCpuPlan plan = large.plan();
            assertTrue(plan.gemvSteps(2, 1, false) && plan.gemvSteps(2, 4, false), "two rows, up to 4 steps");
            assertFalse(plan.gemvSteps(2, 5, false), "two rows, 5 steps: packed");
            assertTrue(plan.gemvSteps(3, 2, false) && plan.gemvSteps(4, 1, false), "3 rows x 2 steps, 4 x 1");
            assertFalse(plan.gemvSteps(3, 3, false) || plan.gemvSteps(4, 2, false), "3 x 3, 4 x 2: packed");
            assertFalse(plan.gemvSteps(5, 1, false), "five rows: packed");
            assertFalse(plan.gemvSteps(2, 1, true), "frozen: packed once and kept");
            assertFalse(small.plan().gemvSteps(2, 1, false), "weights small enough to fuse: packed");
        }
    }

    /**
     * everyCallFuses, on which an inference workspace's single step of gates rests, holds exactly where a call of
     * every batch fuses its steps or runs the pipeline: not for a lone recurrence on several threads (a small batch
     * splits its steps over a team, after a whole-sequence projection), weights past the bound, or OpenBLAS asked for.
     */
    @Test
    void everyCallFusesExactlyWhereEveryBatchDoes() {
        assumeTrue(PackedGemm.USABLE, "without 8-float vectors nothing fuses");
        LstmSpec small = LstmSpec.builder(8, 33).build();
        Object[][] cases = {
            {"one layer, 2 threads", new FastCpuPlan(small, 2, RecurrentGemm.PACKED, ZEN4_L2), false},
            {"one layer, 1 thread", new FastCpuPlan(small, 1, RecurrentGemm.PACKED, ZEN4_L2), true},
            {"two directions", new FastCpuPlan(LstmSpec.builder(8, 33).bidirectional(true).build(), 2,
                    RecurrentGemm.PACKED, ZEN4_L2), true},
            {"the pipeline", new FastCpuPlan(LstmSpec.builder(8, 33).numLayers(2).build(), 2, RecurrentGemm.PACKED,
                    ZEN4_L2), true},
            {"ptb-medium, two directions", new FastCpuPlan(LstmSpec.builder(650, 650).bidirectional(true).build(), 2,
                    RecurrentGemm.PACKED, ZEN4_L2), false},
            {"OpenBLAS asked for", new FastCpuPlan(LstmSpec.builder(8, 33).bidirectional(true).build(), 2,
                    RecurrentGemm.BLAS, ZEN4_L2), false},
        };
        for (Object[] c : cases) {
            FastCpuPlan plan = (FastCpuPlan) c[1];
            assertEquals(c[2], plan.everyCallFuses(), (String) c[0]);
            boolean everyBatch = true;
            for (int batch = 1; batch <= 300; batch++) {
                everyBatch &= plan.fusesSteps(batch) || plan.pipelined(batch);
            }
            assertEquals(everyBatch, plan.everyCallFuses(), c[0] + ": batches 1..300");
        }
    }

    @Test
    void aLayerOverTheBoundKeepsTheWholeLstmUnfused() {
        // H = 192: layer 0 ([28 + 192, 768], 0.7 MB) fits 1.5 MiB, layer 1 ([2H + H, 768], 1.8 MB) does not
        LstmSpec spec = LstmSpec.builder(28, 192).numLayers(2).bidirectional(true).build();
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(LstmSpec.builder(28, 192).build(), ZEN4_L2));
        assertFalse(FastCpuPlan.fusedWeightsFitInCache(spec, ZEN4_L2));
        assertTrue(FastCpuPlan.fusedWeightsFitInCache(LstmSpec.builder(28, 128).numLayers(2)
                .bidirectional(true).build(), ZEN4_L2));
    }
}
