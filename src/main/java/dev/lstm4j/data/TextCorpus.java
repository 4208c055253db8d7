package dev.lstm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A word-level corpus as the Penn Treebank LM data is laid out: one sentence (here: line) per line, tokens separated
 * by white space, {@code <eos>} appended to each line. A single text is split into train / valid / test by blocks of
 * {@link #BLOCK} consecutive lines: of every 20 blocks, block 18 goes to valid and block 19 to test (90 / 5 / 5), so
 * each split samples the whole text and keeps runs of consecutive lines together.
 */
public final class TextCorpus {
    public static final int BLOCK = 50;

    public record Splits(List<String> train, List<String> valid, List<String> test) {}

    private TextCorpus() {}

    /** Tokens of each non-blank line, each line followed by {@code <eos>}. */
    public static List<List<String>> lines(String text) {
        List<List<String>> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String s = line.strip();
            if (s.isEmpty()) continue;
            List<String> toks = new ArrayList<>(List.of(s.split("\\s+")));
            toks.add(Vocabulary.EOS);
            out.add(toks);
        }
        return out;
    }

    public static Splits split(List<List<String>> lines) {
        List<String> train = new ArrayList<>();
        List<String> valid = new ArrayList<>();
        List<String> test = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            int block = (i / BLOCK) % 20;
            (block == 18 ? valid : block == 19 ? test : train).addAll(lines.get(i));
        }
        if (valid.isEmpty() || test.isEmpty()) {
            throw new DataException("corpus: expected at least " + 20 * BLOCK + " non-blank lines to split into train, "
                    + "valid and test, got " + lines.size());
        }
        return new Splits(train, valid, test);
    }

    public static String read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            if (text.indexOf('\0') >= 0 || text.indexOf('\uFFFD') >= 0) {
                throw new DataException(file + ": not a UTF-8 text file (binary or wrongly encoded bytes)");
            }
            return text;
        } catch (NoSuchFileException e) {
            throw new DataException("corpus " + file + " not found");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e);
        }
    }

    /**
     * The King James Bible as the {@code bible-kjv} package prints it ({@code bible -l100000 gen1:1-rev22:21}),
     * cleaned to one verse per line: the verse number dropped, lower case, words of letters and apostrophes.
     */
    public static String kingJamesBible() {
        String raw = KjvText.read();
        StringBuilder sb = new StringBuilder(raw.length());
        for (String line : raw.split("\n")) {
            String s = line.strip();
            int sp = s.indexOf(' ');
            if (sp <= 0 || !s.substring(0, sp).chars().allMatch(Character::isDigit)) continue; // headings, blanks
            String verse = s.substring(sp + 1).toLowerCase(Locale.ROOT).replaceAll("[^a-z']+", " ")
                    .replaceAll("(^| )'+|'+( |$)", " ").strip();
            if (!verse.isEmpty()) sb.append(verse).append('\n');
        }
        return sb.toString();
    }

    /** Perplexity of {@code eval} under the add-one-smoothed unigram distribution of {@code train}: the baseline. */
    public static double unigramPerplexity(int[] train, int[] eval, int vocabSize) {
        double[] counts = new double[vocabSize];
        for (int id : train) counts[id]++;
        double total = train.length + vocabSize;
        double nll = 0;
        for (int id : eval) nll -= Math.log((counts[id] + 1) / total);
        return Math.exp(nll / eval.length);
    }
}
