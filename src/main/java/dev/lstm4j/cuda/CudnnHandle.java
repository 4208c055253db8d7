package dev.lstm4j.cuda;

import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cudnn;

/** A cuDNN handle on one device, bound to one stream at a time. Not for concurrent use from several threads. */
public final class CudnnHandle implements AutoCloseable {
    private final CudaDevice device;
    private final cudnnContext handle;
    private Stream stream;
    private boolean closed;

    private CudnnHandle(CudaDevice device, cudnnContext handle) {
        this.device = device;
        this.handle = handle;
    }

    public static CudnnHandle create(CudaDevice device, Stream stream) {
        CudaLibraries.requireCudnn();
        device.makeCurrent();
        cudnnContext h = new cudnnContext();
        CudaCheck.cudnn("cudnnCreate", cudnn.cudnnCreate(h));
        CudnnHandle handle = new CudnnHandle(device, h);
        handle.bindTo(stream);
        return handle;
    }

    public CudaDevice device() {
        return device;
    }

    public synchronized cudnnContext handle() {
        if (closed) {
            throw new IllegalStateException("cuDNN handle: already closed");
        }
        return handle;
    }

    public synchronized Stream stream() {
        return stream;
    }

    /** Later cuDNN calls with this handle are queued on {@code stream}. */
    public synchronized void bindTo(Stream stream) {
        if (stream.device() != device) {
            throw new IllegalArgumentException("stream: expected one on cuda:" + device.ordinal() + ", got one on cuda:"
                    + stream.device().ordinal());
        }
        CudaCheck.cudnn("cudnnSetStream", cudnn.cudnnSetStream(handle(), stream.handle()));
        this.stream = stream;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        CudaCheck.cudnn("cudnnDestroy", cudnn.cudnnDestroy(handle));
    }
}
