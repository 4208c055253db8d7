package dev.lstm4j.libtorch;

import java.util.List;

/**
 * The lstm4j suite's workloads that PyTorch can run: {@code dev.lstm4j.bench.Workload} without the peephole
 * variants (PyTorch's LSTM has no peepholes), plus {@code ptb-medium-b1} and {@code tiny}. Kept here by hand, as
 * this project does not build against lstm4j; lstm4j's {@code BaselineWorkloadsTest} checks it against lstm4j's.
 */
record Workload(String name, int layers, int inputSize, int hiddenSize, int seqLength, int batch,
                boolean bidirectional) {

    /** The suite's workloads without the peephole variants: {@code --workloads all}. */
    static final List<Workload> SUITE = List.of(
            new Workload("seed-mnist", 1, 28, 128, 28, 128, false),
            new Workload("seed-mnist-bidirectional", 1, 28, 128, 28, 128, true),
            new Workload("ptb-small", 2, 200, 200, 20, 20, false),
            new Workload("ptb-medium", 2, 650, 650, 35, 20, false),
            new Workload("ptb-medium-bidirectional", 2, 650, 650, 35, 20, true),
            new Workload("ptb-large", 2, 1500, 1500, 35, 20, false),
            new Workload("large-batch", 1, 256, 512, 100, 64, false));

    /** Named only: one sequence of ptb-medium, and a shape small enough to check the harness in seconds. */
    static final List<Workload> EXTRA = List.of(
            new Workload("ptb-medium-b1", 2, 650, 650, 35, 1, false),
            new Workload("tiny", 1, 4, 8, 3, 2, false));

    /** The workloads run when none are named: the four of issue 5's targets. */
    static final List<String> DEFAULT = List.of("seed-mnist", "ptb-small", "ptb-medium", "large-batch");

    static Workload byName(String name) {
        List<Workload> known = new java.util.ArrayList<>(SUITE);
        known.addAll(EXTRA);
        for (Workload w : known) {
            if (w.name.equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload: expected one of " + known.stream().map(Workload::name).toList()
                + ", got '" + name + "'");
    }

    int directions() {
        return bidirectional ? 2 : 1;
    }

    /** lstm4j's count: 2 * 4H * (I_l + H) * B * T per layer and direction, I_l = I on layer 0, D*H above. */
    double forwardFlops() {
        double total = 0;
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? inputSize : directions() * hiddenSize;
            total += directions() * 2.0 * 4 * hiddenSize * (in + hiddenSize) * (double) batch * seqLength;
        }
        return total;
    }

    /** Training is forward + backward of every gradient, counted as 3 x forward, as lstm4j counts it. */
    double flops(boolean training) {
        return training ? 3 * forwardFlops() : forwardFlops();
    }
}
