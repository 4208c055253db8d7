package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * How a lone recurrence's team splits a step's product ({@link StepGemms#firstPanel}): the parts cover the whole
 * panels once, in order, and with the tail columns (which the last part runs) counted as a panel no part has more
 * than one panel more than another.
 */
class TeamSplitTest {
    private static final int NR = PackedGemm.NR;

    @Test
    void partsCoverEveryWholePanelOnceInOrder() {
        for (int parts = 1; parts <= 9; parts++) {
            for (int n = 1; n <= 40 * NR + 3; n += 7) {
                assertEquals(0, StepGemms.firstPanel(0, parts, n));
                assertEquals(PackedGemm.panels(n), StepGemms.firstPanel(parts, parts, n),
                        "n " + n + ", parts " + parts);
                for (int q = 0; q < parts; q++) {
                    assertTrue(StepGemms.firstPanel(q, parts, n) <= StepGemms.firstPanel(q + 1, parts, n),
                            "part " + q + " of " + parts + " at n " + n + " ends before it starts");
                }
            }
        }
    }

    @Test
    void theTailCountsAsAPanelOfTheLastPart() {
        // ptb-medium's 4H = 2600 columns: 81 whole panels and 8 tail columns (NR = 32 with AVX-512)
        int n = 81 * NR + NR / 4;
        assertEquals(41, StepGemms.firstPanel(1, 2, n), "41 whole panels first, then 40 and the tail");
        // without a tail the split is even as before
        assertEquals(40, StepGemms.firstPanel(1, 2, 80 * NR));
        // every part's share of panels plus tail differs by at most one unit
        for (int parts = 2; parts <= 8; parts++) {
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (int q = 0; q < parts; q++) {
                int units = StepGemms.firstPanel(q + 1, parts, n) - StepGemms.firstPanel(q, parts, n)
                        + (q == parts - 1 ? 1 : 0);
                min = Math.min(min, units);
                max = Math.max(max, units);
            }
            assertTrue(max - min <= 1, parts + " parts: from " + min + " to " + max + " panels");
        }
    }
}
