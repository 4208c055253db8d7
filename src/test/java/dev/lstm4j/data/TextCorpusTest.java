package dev.lstm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextCorpusTest {
    @Test
    void vocabularyIsByFrequencyThenAlphabetical() {
        Vocabulary v = Vocabulary.build(List.of("b", "a", "c", "a", "b", "d", Vocabulary.EOS), 4);
        assertEquals(List.of("<eos>", "<unk>", "a", "b"), v.words()); // a and b twice (tie: a first), c and d dropped
        assertEquals(v.unk(), v.id("c"));
        assertEquals(v.words(), Vocabulary.parse(v.serialize()).words());
    }

    @Test
    void linesGetEosAndTheSplitTakesBlocks18And19OfEvery20() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2000; i++) text.append("w").append(i).append(" x\n\n");
        TextCorpus.Splits s = TextCorpus.split(TextCorpus.lines(text.toString()));
        assertEquals(1800 * 3, s.train().size());
        assertEquals(100 * 3, s.valid().size());
        assertEquals(List.of("w900", "x", "<eos>"), s.valid().subList(0, 3)); // block 18 starts at line 900
        assertEquals("w950", s.test().get(0));
        assertEquals("w1950", s.test().get(150));
        assertThrows(DataException.class, () -> TextCorpus.split(TextCorpus.lines("a b\n")));
    }

    @Test
    void batchesFollowThePtbLayout() {
        int[] data = new int[23];
        for (int i = 0; i < data.length; i++) data[i] = i;
        TokenBatches b = new TokenBatches(data, 2, 3); // rows [0..10], [11..21]; 23 % 2 dropped
        assertEquals(3, b.size()); // (11 - 1) / 3
        assertArrayEquals(new int[] {0, 11, 1, 12, 2, 13}, b.inputs(0));   // time-major
        assertArrayEquals(new int[] {1, 12, 2, 13, 3, 14}, b.targets(0));
        assertArrayEquals(new int[] {6, 17, 7, 18, 8, 19}, b.inputs(2));
        assertEquals(18, b.tokens());
    }

    @Test
    void unigramPerplexityOfAUniformTextIsTheVocabularySize() {
        List<Integer> ids = new ArrayList<>();
        for (int r = 0; r < 100; r++) for (int w = 0; w < 5; w++) ids.add(w);
        int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
        // add-one smoothing keeps uniform counts uniform: p = 1/5 exactly
        assertEquals(5.0, TextCorpus.unigramPerplexity(a, a, 5), 1e-9);
    }
}
