package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.LstmParams;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * The device copies of frozen parameters ({@link LstmParams#freeze}): uploaded by the first call that uses them and
 * read by every later call, where parameters that may change are uploaded into each call's workspace again. Each
 * entry holds its copies in a workspace of its own, which is given back when its parameters are no longer
 * reachable (at the next lookup: no call can still be reading it, since a call holds its parameters) or when the
 * backend closes. Uploads run on the ops' stream, which every call shares, so a call's kernels follow them.
 */
final class FrozenDeviceWeights implements AutoCloseable {
    private final DeviceOps ops;
    private final ReferenceQueue<LstmParams> unreachable = new ReferenceQueue<>();
    private final List<Entry> entries = new ArrayList<>();
    private int uploads;
    private boolean closed;

    FrozenDeviceWeights(DeviceOps ops) {
        this.ops = ops;
    }

    private static final class Entry extends WeakReference<LstmParams> {
        final DeviceOps.Workspace workspace;
        final DeviceWeights weights;

        Entry(LstmParams params, ReferenceQueue<LstmParams> queue, DeviceOps.Workspace workspace,
              DeviceWeights weights) {
            super(params, queue);
            this.workspace = workspace;
            this.weights = weights;
        }
    }

    /** The device copies of frozen {@code params}: the ones uploaded before, or uploaded now. */
    synchronized DeviceWeights get(LstmParams params) {
        if (!params.isFrozen()) {
            throw new IllegalArgumentException("params: expected frozen parameters, got parameters that may change");
        }
        if (closed) {
            throw new IllegalStateException("frozen device weights: expected an open backend, got a closed one");
        }
        freeUnreachable();
        for (Entry e : entries) {
            if (e.get() == params) return e.weights;
        }
        DeviceOps.Workspace workspace = ops.workspace();
        try {
            DeviceWeights weights = DeviceWeights.upload(ops, workspace, params);
            entries.add(new Entry(params, unreachable, workspace, weights));
            uploads++;
            return weights;
        } catch (RuntimeException | Error e) {
            workspace.close();
            throw e;
        }
    }

    /** How many parameter sets were uploaded so far (for tests). */
    synchronized int uploads() {
        return uploads;
    }

    /** How many parameter sets are held on the device now (for tests). */
    synchronized int held() {
        freeUnreachable();
        return entries.size();
    }

    private void freeUnreachable() {
        for (Reference<? extends LstmParams> r = unreachable.poll(); r != null; r = unreachable.poll()) {
            Entry e = (Entry) r;
            if (entries.remove(e)) e.workspace.close();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Entry e : entries) e.workspace.close();
        entries.clear();
    }
}
