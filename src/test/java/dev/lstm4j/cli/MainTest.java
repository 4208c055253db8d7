package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
        assertEquals(2, run("example", "--colour"));
        assertEquals("lstm4j example: unknown option --colour", err.toString(StandardCharsets.UTF_8).strip(),
                "an unknown option last, without a value, is unknown, not one that needs a value");
        err.reset();
        assertEquals(2, run("example", "--batch"));
        assertEquals("lstm4j example: --batch needs a value", err.toString(StandardCharsets.UTF_8).strip());
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

    /**
     * Every help text in one layout: no line wider than {@link HelpText#WIDTH}, and each option line (one that starts
     * with an option, outside the usage lines) indented by at least two spaces, so that options shared between
     * commands line up with each command's own.
     */
    @Test
    void helpTextsShareOneLayout() {
        for (Command c : Main.commands()) {
            boolean inUsage = false;
            for (String line : c.help().split("\n", -1)) {
                inUsage = line.startsWith("usage:") || (inUsage && line.strip().startsWith("["));
                if (line.length() > HelpText.WIDTH) {
                    fail(c.name() + " --help: a line of " + line.length() + " characters (at most " + HelpText.WIDTH
                            + "): " + line);
                }
                if (!inUsage && line.stripLeading().startsWith("--") && !line.startsWith("  ")) {
                    fail(c.name() + " --help: an option line not indented by two spaces: " + line);
                }
            }
        }
    }

    @Test
    void wrappedTextKeepsItsWordsWithinTheWidth() {
        String words = "alpha beta gamma delta ".repeat(20).strip();
        String wrapped = HelpText.wrap("  --opt   ", words, "          ");
        assertTrue(wrapped.startsWith("  --opt   alpha beta"), wrapped);
        String[] lines = wrapped.split("\n");
        assertTrue(lines.length > 1, wrapped);
        for (int i = 0; i < lines.length; i++) {
            assertTrue(lines[i].length() <= HelpText.WIDTH, lines[i]);
            if (i > 0) assertTrue(lines[i].startsWith("          ") && lines[i].charAt(10) != ' ', lines[i]);
        }
        assertEquals(words, String.join(" ", wrapped.substring(10).strip().split("\\s+")));
    }
}
