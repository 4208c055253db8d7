package dev.lstm4j.cli;

import dev.lstm4j.data.ImageDataset;
import dev.lstm4j.data.Vocabulary;
import dev.lstm4j.train.ClassifierRun;
import dev.lstm4j.train.LanguageModelRun;
import dev.lstm4j.train.LrSchedule;
import dev.lstm4j.train.Trainer;
import dev.lstm4j.train.TrainingCheckpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** {@code lstm4j eval}: a checkpoint's accuracy (classifier) or perplexity (language model) on its data. */
final class EvalCommand implements Command {
    @Override public String name() { return "eval"; }

    @Override
    public String summary() {
        return "evaluate a training checkpoint: test accuracy (mnist) or valid/test perplexity (lm)";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j eval --checkpoint FILE [--data DIR | --digits DIR] [--corpus FILE] [--batch B]
                                   [--limit N] [--backend auto|...]
                Reads a checkpoint written by `lstm4j train`, finds its data where the training run found it (or
                where --data / --digits / --corpus say), and prints test accuracy and loss for a classifier, or
                valid and test perplexity for a language model, with the throughput.""";
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        Path file = Path.of(a.required("checkpoint"));
        String backend = a.option("backend", "auto");
        int batchOpt = a.intOption("batch", 0);
        int limit = a.intOption("limit", 0);
        boolean override = a.has("data") || a.has("digits");
        MnistTask fromFlags = MnistTask.fromArgs(a);
        String corpusFlag = a.option("corpus", null);
        a.finish();
        try (TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(file, backend)) {
            Map<String, String> meta = ck.metadata();
            Trainer trainer = new Trainer(ck.model(), ck.optimizer(), LrSchedule.constant(1), 0, 0);
            out.println("checkpoint: " + file + " (" + ck.optimizer().steps() + " training steps)");
            out.println("backend:    " + ck.model().lstm().backendChoice());
            String task = meta.getOrDefault("task", "");
            if (task.equals("mnist")) {
                MnistTask t = override ? fromFlags : MnistTask.fromMetadata(meta);
                ImageDataset test = t.load().test();
                if (limit > 0) test = test.head(limit);
                ClassifierRun.Evaluation ev = new ClassifierRun(trainer, batchOpt > 0 ? batchOpt : 128, err, false)
                        .evaluate(test);
                out.printf(Locale.ROOT, "test:       accuracy %.2f%%  loss %.4f  (%s, %d images, %.0f samples/s)%n",
                        100 * ev.accuracy(), ev.loss(), t.describe(), ev.samples(), ev.samplesPerSecond());
            } else if (task.equals("lm")) {
                String corpus = corpusFlag != null ? corpusFlag : meta.getOrDefault("data.corpus", LmTask.KJV);
                LmTask t = LmTask.load(corpus, 0, Vocabulary.parse(meta.get("vocab.words")));
                int steps = Integer.parseInt(meta.getOrDefault("lm.steps", "20"));
                int batch = batchOpt > 0 ? batchOpt : 10;
                LanguageModelRun run = new LanguageModelRun(trainer, err, false);
                LanguageModelRun.Evaluation v = run.evaluate(t.batches(t.valid, batch, steps), limit);
                LanguageModelRun.Evaluation te = run.evaluate(t.batches(t.test, batch, steps), limit);
                out.printf(Locale.ROOT, "perplexity: valid %.2f  test %.2f  (%s; %.0f tokens/s)%n", v.perplexity(),
                        te.perplexity(), t.describe(), te.tokensPerSecond());
            } else {
                throw new UsageException("checkpoint " + file + ": expected a checkpoint of `lstm4j train` (metadata "
                        + "task mnist or lm), got task '" + task + "'");
            }
        }
        return 0;
    }

}
