package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        assertEquals(true, FastCpuBackend.fusedWeightsFitInCache(SEED_MNIST, ZEN4_L2));
        assertEquals(true, FastCpuBackend.fusedWeightsFitInCache(PTB_SMALL, ZEN4_L2),
                "ptb-small ran 9 % faster as a pipeline on Zen 4 though its weights are 1.3 times L2");
        assertEquals(false, FastCpuBackend.fusedWeightsFitInCache(PTB_MEDIUM, ZEN4_L2));
        assertEquals(false, FastCpuBackend.fusedWeightsFitInCache(LARGE_BATCH, ZEN4_L2));
    }

    @Test
    void intel() {
        assertEquals(true, FastCpuBackend.fusedWeightsFitInCache(SEED_MNIST, INTEL_L2));
        assertEquals(true, FastCpuBackend.fusedWeightsFitInCache(PTB_SMALL, INTEL_L2));
        assertEquals(false, FastCpuBackend.fusedWeightsFitInCache(LARGE_BATCH, INTEL_L2),
                "large-batch was 10 % slower fused on the Intel VM");
        assertEquals(false, FastCpuBackend.fusedWeightsFitInCache(PTB_MEDIUM, INTEL_L2),
                "ptb-medium was 20 % slower as a pipeline on the Intel VM");
    }

    @Test
    void aLayerOverTheBoundKeepsTheWholeLstmUnfused() {
        // layer 0 (I = 28) would fit; layer 1 reads 2H = 1024 and does not
        LstmSpec spec = LstmSpec.builder(28, 512).numLayers(2).bidirectional(true).build();
        assertEquals(false, FastCpuBackend.fusedWeightsFitInCache(spec, ZEN4_L2));
        assertEquals(true, FastCpuBackend.fusedWeightsFitInCache(LstmSpec.builder(28, 128).numLayers(2)
                .bidirectional(true).build(), ZEN4_L2));
    }
}
