package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.LstmSpec;
import org.junit.jupiter.api.Test;

/** Which workspaces the pool makes, keeps and closes, and the bytes it reports. */
class WorkspacePoolTest {
    static final LstmSpec SPEC = LstmSpec.builder(3, 5).numLayers(2).build();

    private static WorkspacePool pool(int maxIdle) {
        return new WorkspacePool(SPEC, 1, FastCpuWorkspace.Layout.PLAIN, 0, false, 0, maxIdle);
    }

    private static long bytesOf(int batch, int rows, boolean training) {
        try (FastCpuWorkspace ws = new FastCpuWorkspace(SPEC, batch, rows, training, 1,
                FastCpuWorkspace.Layout.PLAIN, 0, false, 0)) {
            return ws.bytes();
        }
    }

    /** Concurrent calls each get their own; afterwards up to maxIdle wait, and as many concurrent calls make none. */
    @Test
    void keepsAWorkspaceForEachOfUpToMaxIdleConcurrentCalls() {
        try (WorkspacePool pool = pool(2)) {
            FastCpuWorkspace a = pool.acquire(4, 12, false);
            FastCpuWorkspace b = pool.acquire(4, 12, false);
            FastCpuWorkspace c = pool.acquire(4, 12, false);
            assertEquals(3, pool.created(), "three overlapping calls");
            assertEquals(3 * bytesOf(4, 12, false), pool.bytes(), "all three in use");
            pool.release(a);
            pool.release(b);
            pool.release(c);
            assertEquals(2, pool.idleCount(), "one closed: at most maxIdle kept");
            assertEquals(2 * bytesOf(4, 12, false), pool.bytes());
            for (int round = 0; round < 5; round++) {
                FastCpuWorkspace x = pool.acquire(4, 12, false);
                FastCpuWorkspace y = pool.acquire(3, 6, false); // smaller: fits either
                assertNotSame(x, y);
                pool.release(y);
                pool.release(x);
            }
            assertEquals(3, pool.created(), "two overlapping calls a round found two idle workspaces");
        }
    }

    /** Alternating shapes settle on one workspace large enough for both, as with a single slot. */
    @Test
    void growsTheLargestIdleWorkspaceWhenNoneFits() {
        try (WorkspacePool pool = pool(2)) {
            FastCpuWorkspace small = pool.acquire(2, 4, false);
            pool.release(small);
            FastCpuWorkspace wide = pool.acquire(7, 14, false);
            assertEquals(bytesOf(7, 14, false), pool.bytes(), "the idle one it could not use was replaced");
            pool.release(wide);
            FastCpuWorkspace both = pool.acquire(3, 21, true);
            assertEquals(bytesOf(7, 21, true), pool.bytes(), "caps of the replaced one and of the call");
            pool.release(both);
            for (int round = 0; round < 3; round++) {
                for (int[] shape : new int[][] {{2, 4}, {7, 14}, {3, 21}}) {
                    FastCpuWorkspace ws = pool.acquire(shape[0], shape[1], round % 2 == 0);
                    assertSame(both, ws, "every later shape fits the settled workspace");
                    pool.release(ws);
                }
            }
            assertEquals(3, pool.created());
            assertEquals(bytesOf(7, 21, true), pool.bytes());
        }
    }

    /** Released into a full pool, the smallest of the idle ones and the released one is closed. */
    @Test
    void closesTheSmallestWhenMoreThanMaxIdleWait() {
        try (WorkspacePool pool = pool(1)) {
            FastCpuWorkspace large = pool.acquire(6, 30, false);
            FastCpuWorkspace small = pool.acquire(2, 4, false);
            pool.release(large);
            pool.release(small);
            assertEquals(1, pool.idleCount());
            assertEquals(bytesOf(6, 30, false), pool.bytes(), "the large one kept");
            assertSame(large, pool.acquire(2, 4, false));
        }
    }

    @Test
    void closedPoolRefusesCallsAndClosesWorkspacesReturnedLater() {
        WorkspacePool pool = pool(2);
        FastCpuWorkspace inUse = pool.acquire(2, 4, true);
        pool.release(pool.acquire(2, 4, false));
        pool.close();
        assertEquals(bytesOf(2, 4, true), pool.bytes(), "the one in use stays until released");
        pool.release(inUse);
        assertEquals(0, pool.bytes());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.acquire(2, 4, false));
        assertTrue(e.getMessage().contains("used after close"), e.getMessage());
        pool.close();
    }

    @Test
    void refusesNoIdleSlot() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool(0));
        assertEquals("maxIdle: expected at least 1, got 0", e.getMessage());
    }
}
