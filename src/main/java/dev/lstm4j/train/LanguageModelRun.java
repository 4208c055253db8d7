package dev.lstm4j.train;

import dev.lstm4j.data.TokenBatches;
import dev.lstm4j.nn.ModelInput;
import dev.lstm4j.nn.RecurrentState;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Epochs of a word-level language model with truncated BPTT: the LSTM state at the end of batch i is the initial
 * state of batch i+1 (the rows of {@link TokenBatches} continue each other), with no gradient flowing across the cut.
 */
public final class LanguageModelRun {
    private final Trainer trainer;
    private final PrintStream err;
    private final boolean terminal;

    public LanguageModelRun(Trainer trainer, PrintStream err, boolean terminal) {
        this.trainer = trainer;
        this.err = err;
        this.terminal = terminal;
    }

    public record Epoch(int epoch, double loss, double seconds, double tokensPerSecond, double lr) {
        public double perplexity() { return Math.exp(loss); }

        public String line(int epochs) {
            return String.format(Locale.ROOT, "epoch %d/%d  train ppl %.2f  lr %.3g  %.1f s  %.0f tokens/s",
                    epoch + 1, epochs, perplexity(), lr, seconds, tokensPerSecond);
        }
    }

    public record Evaluation(double loss, long tokens, double seconds) {
        public double perplexity() { return Math.exp(loss); }
        public double tokensPerSecond() { return tokens / Math.max(seconds, 1e-9); }
    }

    /** Trains one epoch, from the beginning (the state is reset to zero at the start of each epoch). */
    public Epoch trainEpoch(TokenBatches data, int epoch, int epochs, int maxBatches) {
        int batches = maxBatches > 0 ? Math.min(maxBatches, data.size()) : data.size();
        long tokens = (long) batches * data.steps() * data.batch();
        Progress progress = new Progress(err, terminal, 30, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, epochs),
                tokens, "tokens");
        RecurrentState state = null;
        double sumLoss = 0;
        long seen = 0;
        double lr = Double.NaN;
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < batches; i++) {
                ModelInput in = ModelInput.tokens(data.inputs(i), data.steps(), data.batch());
                Trainer.Step s = trainer.step(in, data.targets(i), state, true, epoch);
                if (state != null) state.close();
                state = s.finalState();
                sumLoss += s.loss() * s.count();
                seen += s.count();
                lr = s.lr();
                progress.update(seen, sumLoss / seen);
            }
        } finally {
            if (state != null) state.close();
        }
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Epoch(epoch, sumLoss / seen, seconds, seen / Math.max(seconds, 1e-9), lr);
    }

    /** Mean loss over a whole split, state carried across its batches. */
    public Evaluation evaluate(TokenBatches data, int maxBatches) {
        int batches = maxBatches > 0 ? Math.min(maxBatches, data.size()) : data.size();
        RecurrentState state = null;
        double sumLoss = 0;
        long seen = 0;
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < batches; i++) {
                ModelInput in = ModelInput.tokens(data.inputs(i), data.steps(), data.batch());
                Trainer.Eval e = trainer.evaluate(in, data.targets(i), state, true);
                if (state != null) state.close();
                state = e.finalState();
                sumLoss += e.sumLoss();
                seen += e.count();
            }
        } finally {
            if (state != null) state.close();
        }
        return new Evaluation(sumLoss / seen, seen, (System.nanoTime() - t0) / 1e9);
    }
}
