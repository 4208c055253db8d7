package dev.lstm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) {
        try {
            return Path.of(IdxFileTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readsTheShippedGzippedFixture() {
        IdxFile images = IdxFile.read(fixture("tiny-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(fixture("tiny-labels-idx1-ubyte.gz"));
        assertArrayEquals(new int[] {3, 2, 4}, images.dims());
        ImageDataset ds = IdxFile.images("tiny", images, labels, 10);
        assertEquals(3, ds.size());
        assertArrayEquals(new int[] {7, 0, 9}, ds.labels());
        assertEquals(2, ds.rows());
        assertEquals(4, ds.cols());
        assertEquals(1.0f, ds.pixels()[1], 0f);         // byte 255
        assertEquals(128 / 255f, ds.pixels()[2], 0f);
        assertEquals(80 / 255f, ds.pixels()[15], 0f);   // last pixel of image 1
    }

    @Test
    void batchIsTimeMajorRows() {
        ImageDataset ds = IdxFile.images("tiny", IdxFile.read(fixture("tiny-images-idx3-ubyte.gz")),
                IdxFile.read(fixture("tiny-labels-idx1-ubyte.gz")), 10);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var x = ds.batch(new int[] {2, 1}, 0, 2, dev.lstm4j.tensor.DType.FLOAT32, arena); // [rows=2, B=2, cols=4]
            assertEquals(dev.lstm4j.tensor.Shape.of(2, 2, 4), x.shape());
            assertEquals(1.0, x.get(0, 0, 0), 0);              // image 2, row 0 = 255
            assertEquals(0.0, x.get(1, 0, 3), 0);              // image 2, row 1 = 0
            assertEquals(50 / 255f, x.get(1, 1, 0), 0);        // image 1, row 1, col 0
            assertArrayEquals(new int[] {9, 0}, ds.labels(new int[] {2, 1}, 0, 2));
        }
    }

    @Test
    void readsUncompressedFilesToo() throws IOException {
        Path p = tmp.resolve("labels-idx1-ubyte");
        Files.write(p, idx(new int[] {4}, new byte[] {1, 2, 3, 4}));
        assertArrayEquals(new byte[] {1, 2, 3, 4}, IdxFile.read(p).data());
    }

    @Test
    void refusesCorruptFilesWithTheReason() throws IOException {
        byte[] good = idx(new int[] {2, 2, 2}, new byte[8]);
        assertCorrupt(Arrays.copyOf(good, good.length - 1), "truncated");
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertCorrupt(trailing, "trailing bytes");
        byte[] magic = good.clone();
        magic[0] = 1;
        assertCorrupt(magic, "expected IDX magic");
        byte[] type = good.clone();
        type[2] = 0x0D; // float32 elements
        assertCorrupt(type, "element type");
        assertCorrupt(new byte[] {0, 0}, "truncated header");
        byte[] gz = gzip(good);
        assertCorrupt(Arrays.copyOf(gz, gz.length - 12), "");  // cut inside the deflate stream
        byte[] bad = gz.clone();
        bad[12] ^= 0x55; // corrupt compressed data
        Path p = tmp.resolve("bad.gz");
        Files.write(p, bad);
        DataException e = assertThrows(DataException.class, () -> IdxFile.read(p));
        assertTrue(e.getMessage().startsWith(p + ": not a valid IDX file"), e.getMessage());
    }

    @Test
    void refusesLabelsThatDoNotMatchTheImages() throws IOException {
        Path img = tmp.resolve("i");
        Path lab = tmp.resolve("l");
        Files.write(img, idx(new int[] {2, 1, 1}, new byte[] {0, 1}));
        Files.write(lab, idx(new int[] {3}, new byte[] {0, 1, 2}));
        DataException e = assertThrows(DataException.class,
                () -> IdxFile.images("x", IdxFile.read(img), IdxFile.read(lab), 10));
        assertTrue(e.getMessage().contains("expected 2 labels"), e.getMessage());
        Files.write(lab, idx(new int[] {2}, new byte[] {0, 10}));
        e = assertThrows(DataException.class, () -> IdxFile.images("x", IdxFile.read(img), IdxFile.read(lab), 10));
        assertTrue(e.getMessage().contains("label 1 is 10"), e.getMessage());
    }

    @Test
    void missingFashionMnistSaysHowToInstallIt() {
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(tmp));
        assertTrue(e.getMessage().contains("apt-get install -y dataset-fashion-mnist"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    private void assertCorrupt(byte[] bytes, String expected) throws IOException {
        Path p = tmp.resolve("f" + System.nanoTime());
        Files.write(p, bytes);
        DataException e = assertThrows(DataException.class, () -> IdxFile.read(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains(expected), e.getMessage());
    }

    static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(data);
        }
        return out.toByteArray();
    }
}
