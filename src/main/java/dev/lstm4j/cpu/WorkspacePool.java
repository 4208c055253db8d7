package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmSpec;

/**
 * The workspaces of one {@link FastCpuBackend}: at most one idle workspace is kept; a call takes it if it fits and
 * otherwise replaces it by one large enough for both (so alternating shapes settle on one workspace and memory is
 * bounded by the largest call). A workspace in use (a training forward that has not been closed) is the caller's
 * until {@link #release}.
 */
final class WorkspacePool implements AutoCloseable {
    private final LstmSpec spec;
    private final int chunks;
    private final FastCpuWorkspace.Layout layout;
    private final int gradientParts;
    private FastCpuWorkspace free;
    private long liveBytes; // every workspace not yet closed, idle or in use
    private boolean closed;

    WorkspacePool(LstmSpec spec, int chunks, FastCpuWorkspace.Layout layout, int gradientParts) {
        this.spec = spec;
        this.chunks = chunks;
        this.layout = layout;
        this.gradientParts = gradientParts;
    }

    synchronized FastCpuWorkspace acquire(int batch, int rows, boolean training) {
        if (closed) {
            throw new IllegalStateException("fast CPU backend: used after close");
        }
        FastCpuWorkspace ws = free;
        free = null;
        if (ws != null && ws.fits(batch, rows, training)) {
            return ws;
        }
        int batchCap = batch;
        int rowsCap = rows;
        boolean train = training;
        if (ws != null) {
            batchCap = Math.max(batchCap, ws.batchCap);
            rowsCap = Math.max(rowsCap, ws.rowsCap);
            train |= ws.training;
            liveBytes -= ws.bytes;
            ws.close();
        }
        FastCpuWorkspace fresh = new FastCpuWorkspace(spec, batchCap, rowsCap, train, chunks, layout,
                gradientParts);
        liveBytes += fresh.bytes;
        return fresh;
    }

    /** Hands a workspace back: kept if it is the larger idle one, closed otherwise (and always after close()). */
    synchronized void release(FastCpuWorkspace ws) {
        if (!closed && (free == null || free.bytes < ws.bytes)) {
            FastCpuWorkspace old = free;
            free = ws;
            ws = old;
        }
        if (ws != null) {
            liveBytes -= ws.bytes;
            ws.close();
        }
    }

    synchronized long bytes() {
        return liveBytes;
    }

    /** Idempotent; workspaces still in use are closed when they are released. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (free != null) {
            liveBytes -= free.bytes;
            free.close();
            free = null;
        }
    }
}
