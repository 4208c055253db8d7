package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.LstmSpec;
import org.junit.jupiter.api.Test;

/** The gate buffers a workspace holds: every step's where something reads them later, one step's where not. */
class FastCpuWorkspaceTest {
    private static final LstmSpec TWO_LAYERS = LstmSpec.builder(6, 10).numLayers(2).build();
    private static final int BATCH = 3;
    private static final int ROWS = BATCH * 50;

    private static long gateBytes(FastCpuWorkspace.Layout layout, boolean training, int l) {
        try (FastCpuWorkspace ws = new FastCpuWorkspace(TWO_LAYERS, BATCH, ROWS, training, 1, layout, 0)) {
            return ws.dir(l, 0).g[l].byteSize();
        }
    }

    /**
     * Every call in the pipelined layout fuses its steps, and in inference a fused step keeps its gates in the same
     * [B, 4H] (RecurrentStep.gatesOffset), so a pipelined inference workspace holds one step's per layer, not T's.
     */
    @Test
    void pipelinedInferenceHoldsOneStepOfGatesPerLayer() {
        long step = (long) BATCH * 4 * 10 * Float.BYTES;
        long sequence = (long) ROWS * 4 * 10 * Float.BYTES;
        for (int l = 0; l < 2; l++) {
            assertEquals(step, gateBytes(FastCpuWorkspace.Layout.PIPELINED, false, l), "pipelined inference, " + l);
            assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.PIPELINED, true, l), "pipelined training, " + l);
        }
        // a FUSED workspace also serves a lone recurrence on several threads, whose steps add to a projection
        assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.FUSED, false, 0), "fused inference");
        assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.PLAIN, false, 0), "plain inference");
    }
}
