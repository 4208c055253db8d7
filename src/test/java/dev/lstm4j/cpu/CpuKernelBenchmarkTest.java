package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link CpuKernelBenchmark} ({@code benchmarks/kernels}) for one tiny iteration of each benchmark, in process,
 * so that it cannot rot: H = 17 (whole vectors and a tail), 3 rows, products of one panel (the gradient's S of
 * three row blocks: a pair and an odd one).
 */
class CpuKernelBenchmarkTest {
    @Test
    void everyKernelBenchmarkRunsOneTinyIteration() throws Exception {
        Options options = new OptionsBuilder()
                .include(CpuKernelBenchmark.class.getName() + "\\..*")
                .param("hidden", "17")
                .param("rows", "3")
                .param("gemm", "9x5x" + PackedGemm.NR)
                .param("gradient", "7x" + 3 * PackedGemm.MR + "x" + PackedGemm.NR)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(20))
                .verbosity(VerboseMode.SILENT)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, Integer> perMethod = new TreeMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark().substring(CpuKernelBenchmark.class.getName().length() + 1);
            perMethod.merge(method, 1, Integer::sum);
            assertTrue(r.getPrimaryResult().getScore() > 0, method + ": " + r.getPrimaryResult());
        }
        // forward: peepholes x training; backward: peepholes; one exp row; one shape of each product
        assertEquals(Map.of("exp", 1, "pointwiseBackward", 2, "pointwiseForward", 4, "stepProduct", 1,
                "weightGradient", 1), perMethod);
    }

    @Test
    void shapeParametersNameTheParameterWhenMalformed() {
        assertArrayEquals(new int[] {64, 156, 512}, CpuKernelBenchmark.threeSizes("gemm", "64x156x512", "m x k x n"));
        for (String bad : new String[] {"64x156", "64x156x512x2", "64xkx512", "0x156x512"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CpuKernelBenchmark.threeSizes("gemm", bad, "m x k x n"), bad);
            assertEquals("gemm: expected m x k x n (three positive sizes), got " + bad, e.getMessage());
        }
    }
}
