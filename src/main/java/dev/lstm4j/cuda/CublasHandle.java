package dev.lstm4j.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;

/** A cuBLAS handle on one device, bound to one stream at a time. Not for concurrent use from several threads. */
public final class CublasHandle implements AutoCloseable {
    private final CudaDevice device;
    private final cublasContext handle;
    private Stream stream;
    private boolean closed;

    private CublasHandle(CudaDevice device, cublasContext handle) {
        this.device = device;
        this.handle = handle;
    }

    public static CublasHandle create(CudaDevice device, Stream stream) {
        CudaLibraries.requireCublas();
        device.makeCurrent();
        cublasContext h = new cublasContext();
        CudaCheck.cublas("cublasCreate_v2", cublas.cublasCreate_v2(h));
        CublasHandle handle = new CublasHandle(device, h);
        handle.bindTo(stream);
        return handle;
    }

    public CudaDevice device() {
        return device;
    }

    /** The JavaCPP handle, for cuBLAS calls; call {@link CudaDevice#makeCurrent()} on the thread first. */
    public synchronized cublasContext handle() {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle: already closed");
        }
        return handle;
    }

    public synchronized Stream stream() {
        return stream;
    }

    /** Later cuBLAS calls with this handle are queued on {@code stream}. */
    public synchronized void bindTo(Stream stream) {
        if (stream.device() != device) {
            throw new IllegalArgumentException("stream: expected one on cuda:" + device.ordinal() + ", got one on cuda:"
                    + stream.device().ordinal());
        }
        CudaCheck.cublas("cublasSetStream_v2", cublas.cublasSetStream_v2(handle(), stream.handle()));
        this.stream = stream;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        CudaCheck.cublas("cublasDestroy_v2", cublas.cublasDestroy_v2(handle));
    }
}
