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
 * Calls per second of a service whose request threads share one model: every JMH thread ({@code -t}, the request
 * threads) runs inference on the same LSTM, with frozen parameters ({@link BenchMode#SERVING}), on the fast CPU
 * backend with {@code backendThreads} threads of its own. {@code benchmarks/serving} runs it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
        "-Xss8m"})
public class ServingThroughputBenchmark {
    @Param("ptb-small")
    public String workload;

    @Param("1")
    public int backendThreads;

    private BenchCase model;

    @Setup(Level.Trial)
    public void setUp() {
        model = new BenchCase(Workload.byName(workload), BackendKind.CPU, BenchMode.SERVING, backendThreads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    @Benchmark
    public double call() {
        return model.step();
    }
}
