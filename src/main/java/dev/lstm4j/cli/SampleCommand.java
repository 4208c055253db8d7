package dev.lstm4j.cli;

import dev.lstm4j.data.Vocabulary;
import dev.lstm4j.nn.Model;
import dev.lstm4j.nn.ModelConfig;
import dev.lstm4j.nn.ModelInput;
import dev.lstm4j.nn.RecurrentState;
import dev.lstm4j.nn.SoftmaxCrossEntropy;
import dev.lstm4j.tensor.Tensor;
import dev.lstm4j.train.TrainingCheckpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** {@code lstm4j sample}: text from a trained language model, one word at a time, the state carried along. */
final class SampleCommand implements Command {
    @Override public String name() { return "sample"; }

    @Override
    public String summary() {
        return "generate text from a language-model checkpoint";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j sample --checkpoint FILE [--words N (100)] [--temperature T (1.0)] [--seed S (1)]
                                     [--prime "first words"] [--backend auto|...]
                Feeds the prime (default: the end-of-line token), then draws each next word from the model's
                softmax at the given temperature (lower: more conservative) and prints the words, a line per <eos>.""";
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        Path file = Path.of(a.required("checkpoint"));
        int words = a.intOption("words", 100);
        double temperature = a.doubleOption("temperature", 1.0);
        long seed = a.longOption("seed", 1);
        String prime = a.option("prime", "");
        String backend = a.option("backend", "auto");
        a.finish();
        if (!(temperature > 0)) throw new UsageException("--temperature: expected > 0, got " + temperature);
        if (words < 0) throw new UsageException("--words: expected >= 0, got " + words);
        try (TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(file, backend)) {
            if (!"lm".equals(ck.metadata().get("task")) || ck.model().config().input() != ModelConfig.Input.TOKENS) {
                throw new UsageException("checkpoint " + file + ": expected a language model (lstm4j train lm), got task '"
                        + ck.metadata().get("task") + "'");
            }
            Vocabulary vocab = Vocabulary.parse(ck.metadata().get("vocab.words"));
            Model model = ck.model();
            List<Integer> context = new ArrayList<>();
            context.add(vocab.eos());
            for (String w : prime.toLowerCase(Locale.ROOT).split("\\s+")) if (!w.isEmpty()) context.add(vocab.id(w));
            SplittableRandom random = new SplittableRandom(seed);
            StringBuilder line = new StringBuilder();
            for (int k = 1; k < context.size(); k++) line.append(vocab.word(context.get(k))).append(' ');
            RecurrentState state = null;
            int[] feed = context.stream().mapToInt(Integer::intValue).toArray();
            try {
                for (int n = 0; n < words; n++) {
                    double[] last;
                    try (Model.Pass p = model.forward(ModelInput.tokens(feed, feed.length, 1), state, false, 0)) {
                        if (state != null) state.close();
                        state = p.finalState();
                        Tensor logits = p.logits(); // [T, V]
                        int v = logits.shape().intDim(1);
                        last = new double[v];
                        for (int c = 0; c < v; c++) last[c] = logits.get(feed.length - 1, c);
                    }
                    int next = draw(SoftmaxCrossEntropy.softmax(last, temperature), random);
                    if (next == vocab.eos()) {
                        out.println(line.toString().strip());
                        line.setLength(0);
                    } else {
                        line.append(vocab.word(next)).append(' ');
                    }
                    feed = new int[] {next};
                }
            } finally {
                if (state != null) state.close();
            }
            if (!line.isEmpty()) out.println(line.toString().strip());
        }
        return 0;
    }

    private static int draw(double[] p, SplittableRandom random) {
        double u = random.nextDouble();
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (u < acc) return i;
        }
        return p.length - 1;
    }
}
