package dev.lstm4j.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.bench.BenchCase;
import dev.lstm4j.bench.BenchMode;
import dev.lstm4j.bench.BenchPlan;
import dev.lstm4j.bench.BenchReport;
import dev.lstm4j.bench.BenchResult;
import dev.lstm4j.bench.Workload;
import dev.lstm4j.lstm.BackendKind;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Runs the JMH benchmarks for one tiny iteration (in process, no fork) so that the benchmark code cannot rot. */
class BenchmarkSuiteTest {
    @Test
    void runsOneTinyIterationAndWritesTheReport(@TempDir Path dir) throws Exception {
        BenchmarkSuite.Settings s = new BenchmarkSuite.Settings("tiny", "cpu,reference", "inference,training", "1",
                dir, 0, 1, 0.05, 0, VerboseMode.SILENT);
        List<BenchResult> results = BenchmarkSuite.run(s, new PrintStream(PrintStream.nullOutputStream()));
        assertEquals(4, results.size(), "tiny x {cpu, reference} x {inference, training} at 1 thread");
        for (BenchResult r : results) {
            assertTrue(r.samples() > 0 && r.medianMs() > 0 && r.gflops() > 0, r::toString);
        }
        new BenchReport(results, "test").writeAll(dir, "test");
        assertEquals(5, Files.readAllLines(dir.resolve("results.csv")).size(), "header + 4 rows");
        assertTrue(Files.readString(dir.resolve("results.json")).contains("\"backend\": \"reference\""));
        String html = Files.readString(dir.resolve("results.html"));
        assertTrue(html.contains("<svg") && html.contains("<rect"), "an SVG bar chart");
        assertTrue(Files.exists(dir.resolve("jmh-tiny-cpu-training-t1.json")), "JMH's own result file");
    }

    @Test
    void servingRunsOnFrozenParametersAndIsNotInAll(@TempDir Path dir) throws Exception {
        BenchmarkSuite.Settings s = new BenchmarkSuite.Settings("tiny", "cpu", "serving", "1", dir, 0, 1, 0.05, 0,
                VerboseMode.SILENT);
        List<BenchResult> results = BenchmarkSuite.run(s, new PrintStream(PrintStream.nullOutputStream()));
        assertEquals(1, results.size());
        assertTrue(results.get(0).medianMs() > 0, results.get(0)::toString);
        assertEquals(List.of(BenchMode.INFERENCE, BenchMode.TRAINING), BenchPlan.parseModes("all"));
        try (BenchCase c = new BenchCase(Workload.TINY, BackendKind.CPU, BenchMode.SERVING, 1)) {
            c.step();
            assertTrue(c.frozen(), "serving freezes the parameters");
        }
        try (BenchCase c = new BenchCase(Workload.TINY, BackendKind.CPU, BenchMode.INFERENCE, 1)) {
            assertTrue(!c.frozen(), "inference packs the weights on every call, as before");
        }
    }

    /** The serving benchmark, as {@code benchmarks/serving} runs it: 2 request threads on one shared model. */
    @Test
    void servingThroughputRunsOneTinyIterationOnTwoRequestThreads() throws Exception {
        Options options = new OptionsBuilder()
                .include(ServingThroughputBenchmark.class.getName() + ".call")
                .param("workload", "tiny")
                .param("backendThreads", "1")
                .threads(2)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(50))
                .verbosity(VerboseMode.SILENT)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        assertEquals(1, results.size());
        RunResult r = results.iterator().next();
        assertEquals(2, r.getParams().getThreads(), "request threads");
        assertTrue(r.getPrimaryResult().getScore() > 0, "calls per second: " + r.getPrimaryResult());
    }

    @Test
    void parsesItsOptions() {
        BenchmarkSuite.Settings s = BenchmarkSuite.parse(new String[] {"--workloads", "ptb-small", "--forks", "2",
                "--out", "x"});
        assertEquals("ptb-small", s.workloads());
        assertEquals(2, s.forks());
        assertEquals(Path.of("x"), s.out());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchmarkSuite.parse(new String[] {"--nope", "1"}));
    }
}
