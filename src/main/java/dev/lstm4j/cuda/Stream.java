package dev.lstm4j.cuda;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * A non-blocking CUDA stream on one device. Work on it runs in order; {@link #synchronize()} waits for it. The raw
 * handle ({@link #address()}) is a {@code cudaStream_t}, which FFM kernel launchers take as a pointer.
 */
public final class Stream implements AutoCloseable {
    private final CudaDevice device;
    private final CUstream_st handle;
    private boolean closed;

    private Stream(CudaDevice device, CUstream_st handle) {
        this.device = device;
        this.handle = handle;
    }

    public static Stream create(CudaDevice device) {
        device.makeCurrent();
        CUstream_st h = new CUstream_st();
        CudaCheck.cudart("cudaStreamCreateWithFlags(cudaStreamNonBlocking)",
                cudart.cudaStreamCreateWithFlags(h, cudart.cudaStreamNonBlocking));
        return new Stream(device, h);
    }

    public CudaDevice device() {
        return device;
    }

    /** The JavaCPP handle, for cuBLAS/cuDNN calls. */
    public CUstream_st handle() {
        requireOpen();
        return handle;
    }

    /** The {@code cudaStream_t} value, for native code only. */
    public long address() {
        requireOpen();
        return handle.address();
    }

    /** Blocks until all work queued on this stream is done. */
    public void synchronize() {
        CudaCheck.cudart("cudaStreamSynchronize", cudart.cudaStreamSynchronize(handle()));
    }

    /** Makes later work on this stream wait until {@code event} completes (no host blocking). */
    public void waitFor(Event event) {
        CudaCheck.cudart("cudaStreamWaitEvent", cudart.cudaStreamWaitEvent(handle(), event.handle(), 0));
    }

    /** Idempotent; waits for queued work first so that nothing still runs on a destroyed stream's buffers. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        int sync = cudart.cudaStreamSynchronize(handle);
        int destroy = cudart.cudaStreamDestroy(handle);
        CudaCheck.cudart("cudaStreamSynchronize (closing a stream)", sync);
        CudaCheck.cudart("cudaStreamDestroy", destroy);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("stream: already closed");
        }
    }

    @Override
    public String toString() {
        return "Stream[cuda:" + device.ordinal() + ", 0x" + Long.toHexString(handle.address()) + "]";
    }
}
