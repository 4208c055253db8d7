package dev.lstm4j.cli;

import dev.lstm4j.data.DataException;
import dev.lstm4j.data.TextCorpus;
import dev.lstm4j.data.TokenBatches;
import dev.lstm4j.data.Vocabulary;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The corpus of a language-model run: read, split, encoded with a vocabulary (built from train, or a saved one). */
final class LmTask {
    static final String KJV = "kjv";
    final String corpus; // "kjv" or a path
    final Vocabulary vocab;
    final int[] train;
    final int[] valid;
    final int[] test;

    private LmTask(String corpus, Vocabulary vocab, TextCorpus.Splits splits) {
        this.corpus = corpus;
        this.vocab = vocab;
        this.train = vocab.encode(splits.train());
        this.valid = vocab.encode(splits.valid());
        this.test = vocab.encode(splits.test());
    }

    /** Reads the corpus; builds a vocabulary of {@code vocabSize} from its training split unless {@code vocab} is given. */
    static LmTask load(String corpus, int vocabSize, Vocabulary vocab) {
        try {
            String text = corpus.equals(KJV) ? TextCorpus.kingJamesBible() : TextCorpus.read(Path.of(corpus));
            List<List<String>> lines = TextCorpus.lines(text);
            TextCorpus.Splits splits = TextCorpus.split(lines);
            return new LmTask(corpus, vocab != null ? vocab : Vocabulary.build(splits.train(), vocabSize), splits);
        } catch (DataException e) {
            throw new UsageException(e.getMessage());
        }
    }

    String describe() {
        return (corpus.equals(KJV) ? "the King James Bible (bible -l100000 gen1:1-rev22:21)" : corpus) + ": "
                + train.length + " / " + valid.length + " / " + test.length + " tokens (train / valid / test), vocabulary "
                + vocab.size();
    }

    TokenBatches batches(int[] split, int batch, int steps) {
        try {
            return new TokenBatches(split, batch, steps);
        } catch (IllegalArgumentException e) {
            throw new UsageException("corpus too small for batch " + batch + " x steps " + steps + ": " + e.getMessage());
        }
    }

    static Map<String, String> metadata(String corpus, Vocabulary vocab, int steps, int batch) {
        return Map.of("task", "lm", "data.corpus", corpus, "vocab.words", vocab.serialize(),
                "lm.steps", Integer.toString(steps), "lm.batch", Integer.toString(batch));
    }
}
