package dev.lstm4j.train;

import dev.lstm4j.data.ImageDataset;
import dev.lstm4j.nn.ModelInput;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * Epochs of a row-by-row image classifier: each image is a sequence of its rows, the label is read from the last
 * step. Each epoch visits the training set in a permutation drawn from (seed, epoch), so that a run resumed at a
 * step boundary sees the same batches in the same order.
 */
public final class ClassifierRun {
    private final Trainer trainer;
    private final int batchSize;
    private final DType dtype;
    private final PrintStream err;
    private final boolean terminal;

    public ClassifierRun(Trainer trainer, int batchSize, PrintStream err, boolean terminal) {
        if (batchSize < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batchSize);
        this.trainer = trainer;
        this.batchSize = batchSize;
        this.dtype = trainer.model().config().dtype();
        this.err = err;
        this.terminal = terminal;
    }

    public record Epoch(int epoch, double loss, double accuracy, double seconds, double samplesPerSecond, double lr) {
        public String line(int epochs) {
            return String.format(Locale.ROOT, "epoch %d/%d  train loss %.4f  acc %.2f%%  lr %.3g  %.1f s  %.0f samples/s",
                    epoch + 1, epochs, loss, 100 * accuracy, lr, seconds, samplesPerSecond);
        }
    }

    public record Evaluation(double loss, double accuracy, int samples, double seconds) {
        public double samplesPerSecond() { return samples / Math.max(seconds, 1e-9); }
    }

    public int batchesPerEpoch(ImageDataset train) {
        return (train.size() + batchSize - 1) / batchSize;
    }

    /** Trains epoch {@code epoch} (0-based), starting after the batches of it the optimizer has already taken. */
    public Epoch trainEpoch(ImageDataset train, int epoch, int epochs) {
        int batches = batchesPerEpoch(train);
        long done = trainer.optimizer().steps() - (long) epoch * batches;
        if (done < 0 || done > batches) {
            throw new IllegalStateException("epoch " + epoch + ": the optimizer has taken " + trainer.optimizer().steps()
                    + " steps, which is not within this epoch (" + batches + " batches per epoch)");
        }
        int[] order = ImageDataset.permutation(train.size(), trainer.seed() * 1_000_003L + epoch);
        Progress progress = new Progress(err, terminal, 15, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, epochs),
                train.size(), "samples");
        double sumLoss = 0;
        long seen = 0, correct = 0;
        double lr = Double.NaN;
        long t0 = System.nanoTime();
        for (int b = (int) done; b < batches; b++) {
            int from = b * batchSize;
            int to = Math.min(train.size(), from + batchSize);
            try (Arena arena = Arena.ofShared()) { // shared: large products are split over threads
                Tensor x = train.batch(order, from, to, dtype, arena);
                Trainer.Step s = trainer.step(ModelInput.dense(x), train.labels(order, from, to), null, false, epoch);
                sumLoss += s.loss() * s.count();
                seen += s.count();
                correct += s.correct();
                lr = s.lr();
            }
            progress.update(to, sumLoss / seen);
        }
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Epoch(epoch, seen == 0 ? Double.NaN : sumLoss / seen, seen == 0 ? Double.NaN : (double) correct / seen,
                seconds, seen / Math.max(seconds, 1e-9), lr);
    }

    public Evaluation evaluate(ImageDataset data) {
        int[] order = ImageDataset.identity(data.size());
        double sumLoss = 0;
        long correct = 0;
        long t0 = System.nanoTime();
        for (int from = 0; from < data.size(); from += batchSize) {
            int to = Math.min(data.size(), from + batchSize);
            try (Arena arena = Arena.ofShared()) {
                Tensor x = data.batch(order, from, to, dtype, arena);
                Trainer.Eval e = trainer.evaluate(ModelInput.dense(x), data.labels(order, from, to), null, false);
                sumLoss += e.sumLoss();
                correct += e.correct();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Evaluation(sumLoss / data.size(), (double) correct / data.size(), data.size(), seconds);
    }
}
