package dev.lstm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.BackendKind;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkloadTest {
    @Test
    void flopsFollowTheStatedFormula() {
        // 2 * 4H * (I + H) * B * T = 2 * 512 * 156 * 128 * 28
        assertEquals(572_522_496.0, Workload.SEED_MNIST.forwardFlops());
        assertEquals(3 * 572_522_496.0, Workload.SEED_MNIST.flops(BenchMode.TRAINING));
        // bidirectional: two directions; the second layer reads 2H
        Workload w = new Workload("w", 2, 10, 20, 3, 4, true, false, true);
        double perStep = 2.0 * 80 * (10 + 20) + 2.0 * 80 * (40 + 20);
        assertEquals(2 * perStep * 3 * 4, w.forwardFlops());
    }

    @Test
    void theSuiteHasTheIssuesWorkloads() {
        List<String> names = Workload.suite().stream().map(Workload::name).toList();
        assertEquals(List.of("seed-mnist", "seed-mnist-peephole", "seed-mnist-bidirectional", "ptb-small",
                "ptb-medium", "ptb-medium-peephole", "ptb-medium-bidirectional", "ptb-large", "large-batch"), names);
        Workload pl = Workload.byName("ptb-large");
        assertEquals(List.of(2, 1500, 1500, 35, 20), List.of(pl.layers(), pl.inputSize(), pl.hiddenSize(),
                pl.seqLength(), pl.batch()));
        assertThrows(IllegalArgumentException.class, () -> Workload.byName("nope"));
    }

    @Test
    void theReferenceRunsOnlyOnSmallWorkloadsAndOnce() {
        List<BenchPlan.Case> cases = BenchPlan.cases(List.of(Workload.SEED_MNIST, Workload.PTB_LARGE),
                List.of(BackendKind.CPU, BackendKind.REFERENCE), List.of(BenchMode.INFERENCE), List.of(1, 2));
        assertEquals(5, cases.size(), cases::toString); // cpu x 2 threads x 2 workloads + reference on seed-mnist
        assertFalse(cases.stream().anyMatch(c -> c.backend() == BackendKind.REFERENCE
                && c.workload() == Workload.PTB_LARGE));
        assertTrue(BenchPlan.parseThreads("1,all").contains(Runtime.getRuntime().availableProcessors()));
        assertThrows(IllegalArgumentException.class, () -> BenchPlan.parseThreads("0"));
    }
}
