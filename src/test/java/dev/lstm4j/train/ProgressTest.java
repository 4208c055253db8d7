package dev.lstm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void terminalDrawsABarInPlaceAndClearsIt() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(buf, true, StandardCharsets.UTF_8), true, 10, "epoch 1/3", 100, "samples");
        p.update(100, 0.5); // the last update always draws
        p.finish();
        String s = buf.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\repoch 1/3 [" + "=".repeat(30) + "] 100/100  loss 0.5000"), s);
        assertTrue(s.contains("ETA 0:00"), s);
        assertFalse(s.contains("\n"), "a bar never scrolls: " + s);
    }

    @Test
    void plainOutputWritesWholeLinesAndNoCarriageReturn() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 0, "epoch 2/3", 200, "tokens");
        p.update(50, 1.25);
        p.update(100, 1.0);
        p.finish();
        String s = buf.toString(StandardCharsets.UTF_8);
        assertFalse(s.contains("\r"), s);
        assertEquals(2, s.lines().count(), s);
        assertTrue(s.lines().toList().get(1).startsWith("epoch 2/3 100/200 (50%)  loss 1.0000"), s);
    }

    @Test
    void clockFormat() {
        assertEquals("1:05", Progress.clock(65));
        assertEquals("1:01:01", Progress.clock(3661));
    }
}
