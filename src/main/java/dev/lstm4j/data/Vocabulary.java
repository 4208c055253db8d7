package dev.lstm4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Words to ids: the most frequent words of a training text (ties broken alphabetically, so a vocabulary is a
 * function of its text), plus {@code <unk>} for every other word and {@code <eos>} for the end of a line.
 */
public final class Vocabulary {
    public static final String UNK = "<unk>";
    public static final String EOS = "<eos>";
    private final List<String> words;
    private final Map<String, Integer> ids = new HashMap<>();

    public Vocabulary(List<String> words) {
        this.words = List.copyOf(words);
        for (int i = 0; i < this.words.size(); i++) {
            if (ids.put(this.words.get(i), i) != null) {
                throw new IllegalArgumentException("vocabulary: word '" + this.words.get(i) + "' appears twice");
            }
        }
        if (!ids.containsKey(UNK) || !ids.containsKey(EOS)) {
            throw new IllegalArgumentException("vocabulary: expected the words " + UNK + " and " + EOS);
        }
    }

    /** The {@code maxSize} most frequent tokens of {@code tokens}, always including {@code <unk>} and {@code <eos>}. */
    public static Vocabulary build(List<String> tokens, int maxSize) {
        if (maxSize < 2) throw new IllegalArgumentException("vocabulary size: expected >= 2, got " + maxSize);
        Map<String, Integer> counts = new HashMap<>();
        for (String t : tokens) counts.merge(t, 1, Integer::sum);
        counts.remove(UNK);
        counts.remove(EOS);
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<String, Integer>comparingByValue(Collections.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        List<String> words = new ArrayList<>(List.of(EOS, UNK));
        for (int i = 0; i < sorted.size() && words.size() < maxSize; i++) words.add(sorted.get(i).getKey());
        return new Vocabulary(words);
    }

    public int size() { return words.size(); }
    public List<String> words() { return words; }
    public String word(int id) { return words.get(id); }
    public int unk() { return ids.get(UNK); }
    public int eos() { return ids.get(EOS); }

    public int id(String word) {
        Integer id = ids.get(word);
        return id == null ? unk() : id;
    }

    public int[] encode(List<String> tokens) {
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) out[i] = id(tokens.get(i));
        return out;
    }

    /** Words joined by newlines (no word contains whitespace): how a checkpoint stores it. */
    public String serialize() {
        return String.join("\n", words);
    }

    public static Vocabulary parse(String text) {
        return new Vocabulary(List.of(text.split("\n", -1)));
    }
}
