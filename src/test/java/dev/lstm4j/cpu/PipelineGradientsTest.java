package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How {@link PipelineGradients} shares a pipeline's weight gradients out between its stages, on a recording stand-in
 * for the work (the arithmetic of the rows is the equivalence tests'): every block of every layer taken once, on
 * whole blocks with the last one short; a stage helps a layer whose stage has prepared it, never one that has not;
 * each layer gathered once, after its last block.
 */
class PipelineGradientsTest {
    /** 4H = 200: blocks of 64, 64, 64 and 8 rows. */
    private static final int GATES = 200;

    private static class Recorder implements PipelineGradients.LayerWork {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void prepare(int l) {
            events.add("prepare " + l);
        }

        @Override
        public void rows(int l, int own, int r0, int r1) {
            events.add("rows " + l + " " + r0 + ".." + r1 + " by " + own);
        }

        @Override
        public void gather(int l) {
            events.add("gather " + l);
        }
    }

    @Test
    void aLoneStageTakesItsOwnBlocksAndNoneOfALayerNotReady() {
        Recorder r = new Recorder();
        PipelineGradients g = new PipelineGradients(r, 2, GATES);
        g.afterSteps(1);
        assertEquals(List.of("prepare 1", "rows 1 0..64 by 1", "rows 1 64..128 by 1", "rows 1 128..192 by 1",
                "rows 1 192..200 by 1", "gather 1"), r.events);
        g.afterSteps(0);
        assertEquals(List.of("prepare 0", "rows 0 0..64 by 0", "rows 0 64..128 by 0", "rows 0 128..192 by 0",
                "rows 0 192..200 by 0", "gather 0"), r.events.subList(6, 12));
    }

    /**
     * Layer 0's stage prepares its layer and stops in its first block; layer 1's stage then takes all of its own
     * and the rest of layer 0's. Layer 0 is gathered once, by whichever stage ends its last block, after all four.
     */
    @Test
    void aStageThatEndsHelpsWithTheBlocksLeftOfAReadyLayer() throws Exception {
        CountDownLatch inFirstBlock = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Recorder r = new Recorder() {
            @Override
            public void rows(int l, int own, int r0, int r1) {
                super.rows(l, own, r0, r1);
                if (l == 0 && own == 0 && r0 == 0) {
                    inFirstBlock.countDown();
                    await(release);
                }
            }
        };
        PipelineGradients g = new PipelineGradients(r, 2, GATES);
        ExecutorService stage0 = Executors.newSingleThreadExecutor();
        try {
            Future<?> bottom = stage0.submit(() -> g.afterSteps(0));
            assertTrue(inFirstBlock.await(30, TimeUnit.SECONDS), "layer 0's stage did not reach its first block");
            g.afterSteps(1);
            release.countDown();
            bottom.get(30, TimeUnit.SECONDS);
        } finally {
            stage0.shutdownNow();
        }
        List<String> events = List.copyOf(r.events);
        for (int l = 0; l < 2; l++) {
            for (int b = 0; b < 4; b++) {
                String block = "rows " + l + " " + b * 64 + ".." + Math.min(GATES, b * 64 + 64) + " by ";
                assertEquals(1, events.stream().filter(e -> e.startsWith(block)).count(), block + "once: " + events);
            }
            String gather = "gather " + l;
            assertEquals(1, events.stream().filter(gather::equals).count(), gather + " once: " + events);
            int lastBlock = 0;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).startsWith("rows " + l + " ")) lastBlock = i;
            }
            assertTrue(events.indexOf(gather) > lastBlock, gather + " after its last block: " + events);
        }
        for (String block : List.of("rows 0 64..128 by 1", "rows 0 128..192 by 1", "rows 0 192..200 by 1")) {
            assertTrue(events.contains(block), "layer 1's stage took the blocks left of layer 0: " + events);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("not released within 30 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
