package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train / eval / sample commands end to end on tiny generated data. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    record Result(int status, String out, String err) {}

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void trainMnistEvaluatesSavesEvaluatesAgainAndResumes() throws IOException {
        // 48 training and 24 test images of 6 rows x 5 pixels; class = which third of the image is bright
        writeImages(tmp, "train", 48, 1);
        writeImages(tmp, "t10k", 24, 2);
        Path ck = tmp.resolve("runs/c.safetensors");
        Result r = run("train", "mnist", "--data", tmp.toString(), "--epochs", "2", "--hidden", "8", "--batch", "16",
                "--lr", "0.01", "--checkpoint", ck.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("epoch 2/2"), r.out());
        assertTrue(r.out().contains("test:       accuracy"), r.out());
        assertTrue(r.out().contains("samples/s training"), r.out());
        assertTrue(Files.size(ck) > 0);
        assertTrue(r.err().isEmpty() || !r.err().contains("\r"), "no bar when stderr is not a terminal");

        Result e = run("eval", "--checkpoint", ck.toString());
        assertEquals(0, e.status(), e.err());
        String trainAcc = r.out().lines().filter(l -> l.startsWith("test:")).findFirst().orElseThrow().split("  ")[0];
        String evalAcc = e.out().lines().filter(l -> l.startsWith("test:")).findFirst().orElseThrow().split("  ")[0];
        assertEquals(trainAcc, evalAcc, "the checkpoint scores what the run that wrote it scored");

        Result resumed = run("train", "mnist", "--data", tmp.toString(), "--epochs", "3", "--hidden", "8", "--batch", "16",
                "--resume", ck.toString(), "--checkpoint", ck.toString());
        assertEquals(0, resumed.status(), resumed.err());
        assertTrue(resumed.out().contains("at step 6") && resumed.out().contains("epoch 3/3")
                && !resumed.out().contains("epoch 1/3"), resumed.out());
    }

    @Test
    void trainLmThenSampleAndEval() throws IOException {
        Path corpus = tmp.resolve("corpus.txt");
        StringBuilder sb = new StringBuilder();
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            sb.append("the ").append(r.nextBoolean() ? "cat" : "dog").append(" sat on the mat\n");
        }
        Files.writeString(corpus, sb.toString());
        Path ck = tmp.resolve("lm.safetensors");
        Result t = run("train", "lm", "--corpus", corpus.toString(), "--hidden", "8", "--steps", "5", "--batch", "4",
                "--epochs", "2", "--max-batches", "30", "--eval-max-batches", "5", "--checkpoint", ck.toString());
        assertEquals(0, t.status(), t.err());
        assertTrue(t.out().contains("unigram perplexity") && t.out().contains("perplexity: valid"), t.out());
        Result s = run("sample", "--checkpoint", ck.toString(), "--words", "12", "--prime", "the");
        assertEquals(0, s.status(), s.err());
        assertTrue(s.out().startsWith("the "), s.out());
        Result e = run("eval", "--checkpoint", ck.toString(), "--limit", "3");
        assertEquals(0, e.status(), e.err());
        assertTrue(e.out().contains("perplexity: valid"), e.out());
        Result wrongTask = run("sample", "--checkpoint", ck.toString().replace("lm", "nothere"));
        assertEquals(2, wrongTask.status());
    }

    @Test
    void missingDataAndBadFlagsGiveOneLine() {
        Result r = run("train", "mnist", "--data", tmp.resolve("none").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("apt-get install -y dataset-fashion-mnist"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        Result bad = run("train", "mnist", "--epoch", "3");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("unknown option --epoch"), bad.err());
        Result task = run("train", "cifar");
        assertEquals(2, task.status());
        Result cfg = run("train", "lm", "--config", "huge");
        assertEquals(2, cfg.status());
        assertTrue(cfg.err().contains("small, medium or large"), cfg.err());
    }

    private static void writeImages(Path dir, String prefix, int n, long seed) throws IOException {
        int rows = 6, cols = 5;
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * rows * cols];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            labels[i] = (byte) c;
            for (int t = 0; t < rows; t++) {
                for (int k = 0; k < cols; k++) {
                    boolean bright = t / 2 == c;
                    px[(i * rows + t) * cols + k] = (byte) (bright ? 200 + r.nextInt(55) : r.nextInt(40));
                }
            }
        }
        write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {n, rows, cols}, px);
        write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {n}, labels);
    }

    private static void write(Path p, int[] dims, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        try (GZIPOutputStream g = new GZIPOutputStream(Files.newOutputStream(p))) {
            g.write(b.array());
        }
    }
}
