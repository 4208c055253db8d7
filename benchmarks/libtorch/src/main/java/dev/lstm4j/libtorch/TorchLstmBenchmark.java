package dev.lstm4j.libtorch;

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
 * One step of one workload on libtorch's LSTM, as lstm4j's {@code LstmBenchmark} times its backends: JMH's
 * per-invocation samples (SampleTime), 5 warm-up and 5 measured iterations of 2 s in one fork unless
 * {@link TorchSuite} is told otherwise. {@link TorchSuite} runs it for every case and reports the median.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TorchLstmBenchmark {
    @Param("seed-mnist")
    public String workload;

    @Param("inference")
    public String mode;

    @Param("1")
    public int threads;

    private TorchLstmCase lstmCase;

    @Setup(Level.Trial)
    public void setUp() {
        lstmCase = new TorchLstmCase(Workload.byName(workload), TorchSuite.parseMode(mode), threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lstmCase.close();
    }

    @Benchmark
    public double step() {
        return lstmCase.step();
    }
}
