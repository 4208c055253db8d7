package dev.lstm4j.cuda;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;

/** A CUDA event: record it on a stream, wait for it, or time the work between two of them. */
public final class Event implements AutoCloseable {
    private final CudaDevice device;
    private final CUevent_st handle;
    private final boolean timing;
    private boolean closed;

    private Event(CudaDevice device, CUevent_st handle, boolean timing) {
        this.device = device;
        this.handle = handle;
        this.timing = timing;
    }

    /** @param timing whether {@link #elapsedMillisSince} may be used (timing events cost a little more) */
    public static Event create(CudaDevice device, boolean timing) {
        device.makeCurrent();
        CUevent_st h = new CUevent_st();
        CudaCheck.cudart("cudaEventCreateWithFlags",
                cudart.cudaEventCreateWithFlags(h, timing ? cudart.cudaEventDefault : cudart.cudaEventDisableTiming));
        return new Event(device, h, timing);
    }

    public CUevent_st handle() {
        if (closed) {
            throw new IllegalStateException("event: already closed");
        }
        return handle;
    }

    /** Captures the work queued on {@code stream} so far. */
    public void record(Stream stream) {
        CudaCheck.cudart("cudaEventRecord", cudart.cudaEventRecord(handle(), stream.handle()));
    }

    /** Blocks the host until the recorded work is done. */
    public void synchronize() {
        CudaCheck.cudart("cudaEventSynchronize", cudart.cudaEventSynchronize(handle()));
    }

    /** Whether the recorded work is done, without blocking. */
    public boolean isComplete() {
        int s = cudart.cudaEventQuery(handle());
        if (s == cudart.cudaErrorNotReady) {
            return false;
        }
        CudaCheck.cudart("cudaEventQuery", s);
        return true;
    }

    /** Milliseconds of GPU time between {@code start} and this event; both must be recorded and complete. */
    public float elapsedMillisSince(Event start) {
        if (!timing || !start.timing) {
            throw new IllegalStateException("event: elapsed time needs two events created with timing=true");
        }
        float[] ms = new float[1];
        CudaCheck.cudart("cudaEventElapsedTime", cudart.cudaEventElapsedTime(ms, start.handle(), handle()));
        return ms[0];
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        CudaCheck.cudart("cudaEventDestroy", cudart.cudaEventDestroy(handle));
    }
}
