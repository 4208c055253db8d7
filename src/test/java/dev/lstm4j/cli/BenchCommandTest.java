package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
    @Test
    void quickRunPrintsATableAndWritesTheFiles(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"bench", "--quick", "--workloads", "tiny", "--backends", "cpu,reference",
                "--threads", "1,2", "--seconds", "0.05", "--out", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String table = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        // tiny x {inference, training} x (cpu at 1 and 2 threads + reference once) = 6 rows
        assertEquals(7, table.lines().count(), table);
        assertTrue(table.lines().skip(1).allMatch(l -> l.startsWith("tiny")), table);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("[6/6]"), "progress goes to stderr");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("(warm-up "), "each case says how long it warmed up");
        assertTrue(Files.readString(dir.resolve("results.html")).contains("<svg"));
    }

    @Test
    void badOptionsAreUsageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"bench", "--threads", "0"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("threads"), err.toString(StandardCharsets.UTF_8));
        assertEquals(2, Main.run(new String[] {"bench", "--workloads", "nope"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream())));
    }
}
