package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The workspaces of one {@link FastCpuBackend}. A call takes an idle workspace that fits; if none fits it replaces
 * the largest idle one by one large enough for both (so alternating shapes settle on one workspace and memory is
 * bounded by the largest call), and with none idle (every one in use by a concurrent call) it makes a new one. Up to
 * {@code maxIdle} workspaces are kept idle between calls, so that concurrent request threads each find one instead of
 * allocating (and zeroing) a new one on every call that overlaps another; a workspace released when that many are
 * idle is closed, or the smallest idle one in its place. A workspace in use (a training forward that has not been
 * closed) is the caller's until {@link #release}.
 */
final class WorkspacePool implements AutoCloseable {
    private final LstmSpec spec;
    private final int chunks;
    private final FastCpuWorkspace.Layout layout;
    private final int gradientParts;
    private final boolean oneStepOfGates;
    private final int productParts;
    private final int maxIdle;
    private final List<FastCpuWorkspace> idle = new ArrayList<>();
    /** Every workspace not yet closed, idle or in use. */
    private final Set<FastCpuWorkspace> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private int created;
    private boolean closed;

    /**
     * @param oneStepOfGates as {@link FastCpuWorkspace}'s
     * @param productParts as {@link FastCpuWorkspace}'s
     * @param maxIdle        most workspaces kept between calls: the concurrent calls that should find one ready
     */
    WorkspacePool(LstmSpec spec, int chunks, FastCpuWorkspace.Layout layout, int gradientParts,
                  boolean oneStepOfGates, int productParts, int maxIdle) {
        if (maxIdle < 1) {
            throw new IllegalArgumentException("maxIdle: expected at least 1, got " + maxIdle);
        }
        this.spec = spec;
        this.chunks = chunks;
        this.layout = layout;
        this.gradientParts = gradientParts;
        this.oneStepOfGates = oneStepOfGates;
        this.productParts = productParts;
        this.maxIdle = maxIdle;
    }

    synchronized FastCpuWorkspace acquire(int batch, int rows, boolean training) {
        if (closed) {
            throw new IllegalStateException("fast CPU backend: used after close");
        }
        FastCpuWorkspace largest = null;
        for (int k = idle.size() - 1; k >= 0; k--) { // the most recently released first
            FastCpuWorkspace ws = idle.get(k);
            if (ws.fits(batch, rows, training)) {
                idle.remove(k);
                return ws;
            }
            if (largest == null || ws.bytes() > largest.bytes()) largest = ws;
        }
        int batchCap = batch;
        int rowsCap = rows;
        boolean train = training;
        if (largest != null) {
            batchCap = Math.max(batchCap, largest.batchCap);
            rowsCap = Math.max(rowsCap, largest.rowsCap);
            train |= largest.training;
            idle.remove(largest);
            closeLive(largest);
        }
        FastCpuWorkspace fresh = new FastCpuWorkspace(spec, batchCap, rowsCap, train, chunks, layout,
                gradientParts, oneStepOfGates, productParts);
        live.add(fresh);
        created++;
        return fresh;
    }

    /** Hands a workspace back: kept idle, or closed (always after close()); see the class comment. */
    synchronized void release(FastCpuWorkspace ws) {
        if (closed) {
            closeLive(ws);
            return;
        }
        idle.add(ws);
        if (idle.size() > maxIdle) {
            FastCpuWorkspace smallest = idle.get(0);
            for (FastCpuWorkspace w : idle) {
                if (w.bytes() < smallest.bytes()) smallest = w;
            }
            idle.remove(smallest);
            closeLive(smallest);
        }
    }

    private void closeLive(FastCpuWorkspace ws) {
        live.remove(ws);
        ws.close();
    }

    /** Bytes of every workspace not yet closed, idle or in use. */
    synchronized long bytes() {
        long total = 0;
        for (FastCpuWorkspace ws : live) total += ws.bytes();
        return total;
    }

    /** Workspaces made so far (for tests). */
    synchronized int created() {
        return created;
    }

    /** Workspaces kept idle now (for tests). */
    synchronized int idleCount() {
        return idle.size();
    }

    /** Idempotent; workspaces still in use are closed when they are released. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (FastCpuWorkspace ws : idle) closeLive(ws);
        idle.clear();
    }
}
