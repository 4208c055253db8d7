package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lstm4j.lstm.LstmSpec;
import org.junit.jupiter.api.Test;

/** The gate buffers a workspace holds: every step's where something reads them later, one step's where not. */
class FastCpuWorkspaceTest {
    private static final LstmSpec TWO_LAYERS = LstmSpec.builder(6, 10).numLayers(2).build();
    private static final int BATCH = 3;
    private static final int ROWS = BATCH * 50;

    private static long gateBytes(FastCpuWorkspace.Layout layout, boolean training, boolean oneStep, int l) {
        try (FastCpuWorkspace ws = new FastCpuWorkspace(TWO_LAYERS, BATCH, ROWS, training, 1, layout, 0, oneStep,
                0)) {
            return ws.dir(l, 0).g[l].byteSize();
        }
    }

    /**
     * Where every call fuses its steps (FastCpuPlan.everyCallFuses), an inference keeps each step's gates in the same
     * [B, 4H] (RecurrentStep.fusedGates), so its workspace holds one step's (per layer in the pipeline), not T's;
     * training keeps every step's for backward, and a workspace for calls that may add their steps to a
     * whole-sequence projection keeps that projection.
     */
    @Test
    void holdsOneStepOfGatesWhereEveryCallFuses() {
        long step = (long) BATCH * 4 * 10 * Float.BYTES;
        long sequence = (long) ROWS * 4 * 10 * Float.BYTES;
        for (int l = 0; l < 2; l++) {
            assertEquals(step, gateBytes(FastCpuWorkspace.Layout.PIPELINED, false, true, l), "pipeline, layer " + l);
            assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.PIPELINED, true, true, l), "training, " + l);
        }
        assertEquals(step, gateBytes(FastCpuWorkspace.Layout.FUSED, false, true, 0), "fused, every call");
        assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.FUSED, false, false, 0), "fused, not every call");
        assertEquals(sequence, gateBytes(FastCpuWorkspace.Layout.PLAIN, false, false, 0), "plain");
    }
}
