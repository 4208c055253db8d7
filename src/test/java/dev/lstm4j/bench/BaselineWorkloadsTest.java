package dev.lstm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The baselines in benchmarks/ (PyTorch 2.10 through libtorch, oneDNN's primitive, Debian's PyTorch) keep their own
 * copies of the workload table, as none of them builds against lstm4j: each copy must name the same shapes as
 * {@link Workload}, or the side-by-side figures compare different LSTMs.
 */
class BaselineWorkloadsTest {
    // "name", layers, I, H, T, B, bidirectional as the Java record, the C++ initialiser and the Python tuple write it
    private static final Pattern ENTRY = Pattern.compile(
            "\"([a-z0-9-]+)\"[,:] \\(?(\\d+), (\\d+), (\\d+), (\\d+), (\\d+), (true|false|True|False)\\)?");

    @ParameterizedTest
    @ValueSource(strings = {"benchmarks/libtorch/src/main/java/dev/lstm4j/libtorch/Workload.java",
            "benchmarks/onednn/lstm_bench.cpp", "benchmarks/pytorch/lstm_bench.py"})
    void eachBaselineRunsLstm4jsShapes(String file) throws IOException {
        Map<String, List<Object>> table = entries(Files.readString(Path.of(file)));
        assertFalse(table.isEmpty(), file + ": no workload entries found");
        for (Map.Entry<String, List<Object>> e : table.entrySet()) {
            Workload w = Workload.byName(e.getKey());
            assertFalse(w.peepholes(), file + ": " + e.getKey() + " has peepholes, which the baselines cannot run");
            assertEquals(List.of(w.layers(), w.inputSize(), w.hiddenSize(), w.seqLength(), w.batch(),
                    w.bidirectional()), e.getValue(),
                    file + ": " + e.getKey() + " (layers, I, H, T, B, bidirectional)");
        }
        for (Workload w : Workload.suite()) {
            if (!w.peepholes()) {
                assertTrue(table.containsKey(w.name()), file + ": the suite's " + w.name() + " is missing");
            }
        }
    }

    private static Map<String, List<Object>> entries(String source) {
        Map<String, List<Object>> table = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(source);
        while (m.find()) {
            table.put(m.group(1), List.of(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)),
                    Boolean.parseBoolean(m.group(7).toLowerCase(java.util.Locale.ROOT))));
        }
        return table;
    }
}
