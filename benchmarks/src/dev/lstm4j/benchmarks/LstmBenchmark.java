package dev.lstm4j.benchmarks;

import dev.lstm4j.bench.BenchCase;
import dev.lstm4j.bench.BenchMode;
import dev.lstm4j.bench.Workload;
import dev.lstm4j.lstm.BackendKind;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One LSTM step (inference: a forward pass; training: forward + backward of every gradient) of one workload on one
 * backend with a given thread count. {@link BenchmarkSuite} runs it for every combination of the plan and reports
 * the median of JMH's per-invocation samples.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
        "-Xss8m"})
public class LstmBenchmark {
    @Param("seed-mnist")
    public String workload;

    @Param("cpu")
    public String backend;

    @Param("inference")
    public String mode;

    @Param("1")
    public int threads;

    private BenchCase benchCase;

    @Setup(Level.Trial)
    public void setUp() {
        benchCase = new BenchCase(Workload.byName(workload), BackendKind.parse(backend), BenchMode.parse(mode),
                threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        benchCase.close();
    }

    @Benchmark
    public double step() {
        return benchCase.step();
    }
}
