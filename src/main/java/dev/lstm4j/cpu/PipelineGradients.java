package dev.lstm4j.cpu;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The weight gradients of a pipeline's layers ({@link PipelinedLayers#backward}), shared out between its stages in
 * blocks of {@value #BLOCK_ROWS} gate rows: a stage whose backward steps have ended prepares its layer, takes its
 * layer's blocks, then the blocks left of any other layer whose stage has prepared it; the thread that ends a
 * layer's last block gathers that layer. The stages end their steps one after another (the top layer's first, one
 * step or more ahead), and each taking only its own layer left the first idle at the end: ptb-small training (2
 * threads), the top layer's stage ended its steps 0.49 ms before the bottom one's and then waited 0.59 ms for it;
 * shared, the step took 0.968 and 0.957 of the time (one JVM, the two builds alternating 1-s blocks, 30 pairs each).
 * A block's rows are the same arithmetic whoever takes them, so the results are the same bits.
 *
 * <p>One object per backward call. What crosses threads: what a layer's stage wrote before it published the layer
 * as ready (its dA, its prepared operands), read by whoever takes its blocks after; and the gradient rows, each
 * block written by one thread and gathered by the thread that ends the layer's last block, after every other
 * block's decrement.
 */
final class PipelineGradients {
    /** Gate rows per block: a multiple of every row block of the packed kernel (8 or 4). */
    static final int BLOCK_ROWS = 64;

    /** The work of one layer's weight gradients ({@link WeightGradients#forPipeline} for a backward call). */
    interface LayerWork {
        /** Layer l's operands, on its own stage, before any of its rows are taken. */
        void prepare(int l);

        /** Rows r0..r1-1 (gates) of layer l, on the stage of layer own (whose buffers the thread may use). */
        void rows(int l, int own, int r0, int r1);

        /** After every row of layer l: what needs all of them (the bias and peephole gradients). */
        void gather(int l);
    }

    private final LayerWork work;
    private final int layers;
    private final int gates;
    private final int blocks;
    private final AtomicIntegerArray ready;
    private final AtomicIntegerArray next;
    private final AtomicIntegerArray left;

    /** @param gates 4H: rows of each layer's gradients */
    PipelineGradients(LayerWork work, int layers, int gates) {
        this.work = work;
        this.layers = layers;
        this.gates = gates;
        this.blocks = (gates + BLOCK_ROWS - 1) / BLOCK_ROWS;
        this.ready = new AtomicIntegerArray(layers);
        this.next = new AtomicIntegerArray(layers);
        this.left = new AtomicIntegerArray(layers);
        for (int l = 0; l < layers; l++) left.set(l, blocks);
    }

    /**
     * Run by layer l's stage when its backward steps end: prepares layer l, takes its blocks, then those left of
     * the other layers that are ready, until no ready layer has blocks left (a layer not ready yet is its own
     * stage's to take).
     */
    void afterSteps(int l) {
        work.prepare(l);
        ready.set(l, 1);
        take(l, l);
        boolean took = true;
        while (took) {
            took = false;
            for (int m = 0; m < layers; m++) {
                if (m != l && ready.get(m) == 1) took |= take(m, l);
            }
        }
    }

    /** Takes layer m's blocks on the stage of layer own until none is left; whether it took any. */
    private boolean take(int m, int own) {
        boolean took = false;
        for (int b = next.getAndIncrement(m); b < blocks; b = next.getAndIncrement(m)) {
            took = true;
            int r0 = b * BLOCK_ROWS;
            work.rows(m, own, r0, Math.min(gates, r0 + BLOCK_ROWS));
            if (left.decrementAndGet(m) == 0) {
                work.gather(m);
            }
        }
        return took;
    }
}
