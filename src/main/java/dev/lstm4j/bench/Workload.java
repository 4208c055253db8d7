package dev.lstm4j.bench;

import dev.lstm4j.lstm.LstmSpec;
import java.util.List;

/**
 * One benchmark configuration: an LSTM shape and the batch it runs. The standard suite holds the classic workloads
 * (DESIGN.md, "Performance").
 *
 * @param small whether the plain-Java reference is run on it too (it takes seconds per step on the large ones)
 */
public record Workload(String name, int layers, int inputSize, int hiddenSize, int seqLength, int batch,
                       boolean bidirectional, boolean peepholes, boolean small) {

    public static final Workload SEED_MNIST = new Workload("seed-mnist", 1, 28, 128, 28, 128, false, false, true);
    public static final Workload PTB_SMALL = new Workload("ptb-small", 2, 200, 200, 20, 20, false, false, true);
    public static final Workload PTB_MEDIUM = new Workload("ptb-medium", 2, 650, 650, 35, 20, false, false, false);
    public static final Workload PTB_LARGE = new Workload("ptb-large", 2, 1500, 1500, 35, 20, false, false, false);
    public static final Workload LARGE_BATCH = new Workload("large-batch", 1, 256, 512, 100, 64, false, false, false);
    /** ptb-medium's layers on one sequence at a time: a service answering one request per call. Not in the suite. */
    public static final Workload PTB_MEDIUM_ONE_ROW = new Workload("ptb-medium-b1", 2, 650, 650, 35, 1, false, false,
            false);
    /** A workload small enough for a test to run a benchmark end to end in milliseconds. */
    public static final Workload TINY = new Workload("tiny", 1, 4, 8, 3, 2, false, false, true);

    /** The standard suite, in report order. */
    public static List<Workload> suite() {
        return List.of(SEED_MNIST, SEED_MNIST.peephole(), SEED_MNIST.bidirectionalVersion(),
                PTB_SMALL, PTB_MEDIUM, PTB_MEDIUM.peephole(), PTB_MEDIUM.bidirectionalVersion(),
                PTB_LARGE, LARGE_BATCH);
    }

    /** Every workload that can be named: the suite plus {@link #PTB_MEDIUM_ONE_ROW} and {@link #TINY}. */
    public static List<Workload> known() {
        List<Workload> all = new java.util.ArrayList<>(suite());
        all.add(PTB_MEDIUM_ONE_ROW);
        all.add(TINY);
        return List.copyOf(all);
    }

    public static Workload byName(String name) {
        for (Workload w : known()) {
            if (w.name.equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload: expected one of "
                + known().stream().map(Workload::name).toList() + ", got '" + name + "'");
    }

    public Workload peephole() {
        return new Workload(name + "-peephole", layers, inputSize, hiddenSize, seqLength, batch, bidirectional, true,
                small);
    }

    public Workload bidirectionalVersion() {
        return new Workload(name + "-bidirectional", layers, inputSize, hiddenSize, seqLength, batch, true, peepholes,
                small);
    }

    public LstmSpec spec() {
        return LstmSpec.builder(inputSize, hiddenSize).numLayers(layers).bidirectional(bidirectional)
                .peepholes(peepholes).build();
    }

    /**
     * FLOPs of one forward pass: 2 * 4H * (I_l + H) * B * T per layer and direction, where I_l is the layer's input
     * width (I for the first layer, D*H above it). The pointwise work is not counted.
     */
    public double forwardFlops() {
        int dirs = bidirectional ? 2 : 1;
        double total = 0;
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? inputSize : dirs * hiddenSize;
            total += dirs * 2.0 * 4 * hiddenSize * (in + hiddenSize) * (double) batch * seqLength;
        }
        return total;
    }

    /** FLOPs of the measured operation: forward, or forward + backward of every gradient (3 x forward). */
    public double flops(BenchMode mode) {
        return mode == BenchMode.TRAINING ? 3 * forwardFlops() : forwardFlops();
    }

    public String shape() {
        return String.format("L=%d I=%d H=%d T=%d B=%d%s%s", layers, inputSize, hiddenSize, seqLength, batch,
                bidirectional ? " bidirectional" : "", peepholes ? " peepholes" : "");
    }
}
