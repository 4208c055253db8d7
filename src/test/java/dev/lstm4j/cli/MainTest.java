package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... argv) {
        return Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void exampleRunsForwardAndBackward() {
        assertEquals(0, run("example", "--seq-length", "3", "--batch", "2", "--peepholes", "--bidirectional"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("backend:  reference"), text);
        assertTrue(text.contains("|d weight_peep_l1_reverse|"), text);
    }

    @Test
    void userErrorsAreOneLineAndExitTwo() {
        assertEquals(2, run("example", "--batch", "two"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals("lstm4j example: --batch: expected an integer, got 'two'", e.strip());
        err.reset();
        assertEquals(2, run("example", "--colour", "red"));
        assertEquals("lstm4j example: unknown option --colour", err.toString(StandardCharsets.UTF_8).strip());
        err.reset();
        assertEquals(2, run("example", "--hidden-size", "0"));
        assertTrue(err.toString(StandardCharsets.UTF_8).strip().startsWith("lstm4j example: hiddenSize: expected > 0"));
        assertEquals(2, run("frobnicate"));
    }

    @Test
    void helpIsThereForEveryCommand() {
        assertEquals(0, run("--help"));
        assertEquals(0, run("example", "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: lstm4j example"));
    }
}
