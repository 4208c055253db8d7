package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.cuda.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a training forward keeps on the device for backward: x, y, the initial state (null when zero), the reserve
 * space, and the lengths the call ran with. Closed with its {@code LstmOutput}, which gives the buffers back.
 */
final class CudnnSavedForward implements AutoCloseable {
    final CudnnLstmBackend owner;
    final int batch;
    final int seqLength;
    final int[] lengths;
    final DeviceBuffer x;       // [T, B, I] or [B, T, I]
    final DeviceBuffer y;       // [T, B, D*P] or [B, T, D*P]
    final DeviceBuffer hx;      // [D*L, B, P], null: zeros
    final DeviceBuffer cx;      // [D*L, B, H], null: zeros
    final DeviceBuffer reserve; // cuDNN's reserve space from the forward call
    private boolean backwardDone;
    private boolean closed;

    CudnnSavedForward(CudnnLstmBackend owner, int batch, int seqLength, int[] lengths, DeviceBuffer x, DeviceBuffer y,
                      DeviceBuffer hx, DeviceBuffer cx, DeviceBuffer reserve) {
        this.owner = owner;
        this.batch = batch;
        this.seqLength = seqLength;
        this.lengths = lengths.clone();
        this.x = x;
        this.y = y;
        this.hx = hx;
        this.cx = cx;
        this.reserve = reserve;
    }

    /**
     * cuDNN's backward-data call writes into the reserve space, so one forward output supports one backward call.
     */
    synchronized void claimForBackward() {
        if (closed) {
            throw new IllegalStateException("forward output: already closed; run forward again");
        }
        if (backwardDone) {
            throw new IllegalStateException("forward output: the cudnn backend allows one backward per training "
                    + "forward (cuDNN reuses the reserve space); run forward again");
        }
        backwardDone = true;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<DeviceBuffer> all = new ArrayList<>();
        for (DeviceBuffer b : new DeviceBuffer[] {x, y, hx, cx, reserve}) {
            if (b != null) all.add(b);
        }
        all.forEach(DeviceBuffer::close);
    }
}
