package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The team's split of a step's panels ({@link StepGemms#firstPanel}): every panel in exactly one part, the parts
 * at most one panel apart, and the last part (which also computes the tail columns) never above another.
 */
class RecurrentSplitTest {

    @Test
    void panelsAreSharedOutOnceWithTheLastPartNeverLarger() {
        for (int parts = 1; parts <= 5; parts++) {
            for (int panels = 0; panels <= 200; panels++) {
                int min = Integer.MAX_VALUE;
                int max = 0;
                int covered = 0;
                for (int q = 0; q < parts; q++) {
                    int p0 = StepGemms.firstPanel(panels, q, parts);
                    int p1 = StepGemms.firstPanel(panels, q + 1, parts);
                    assertEquals(covered, p0, "part " + q + " starts where the one before ended");
                    covered = p1;
                    min = Math.min(min, p1 - p0);
                    max = Math.max(max, p1 - p0);
                }
                int last = panels - StepGemms.firstPanel(panels, parts - 1, parts);
                assertEquals(panels, covered, panels + " panels, " + parts + " parts: all covered");
                assertTrue(max - min <= 1, panels + " panels, " + parts + " parts: " + min + ".." + max);
                assertEquals(min, last, panels + " panels, " + parts + " parts: the last part takes the fewest");
            }
        }
        assertEquals(41, StepGemms.firstPanel(81, 1, 2), "ptb-medium's forward step: 41 panels, then 40 and the tail");
    }
}
