package dev.lstm4j.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A library handle (cuBLAS, cuDNN) on one device, bound to one stream at a time: the lifetime, stream binding and
 * closed-state checks they share. Subclasses say how their library binds a stream and destroys a handle. Not for
 * concurrent use from several threads.
 */
abstract class StreamBoundHandle<H extends Pointer> implements AutoCloseable {
    private final CudaDevice device;
    private final H handle;
    private final String library;
    private Stream stream;
    private boolean closed;

    StreamBoundHandle(CudaDevice device, H handle, String library) {
        this.device = device;
        this.handle = handle;
        this.library = library;
    }

    /** Queues the library's later calls with {@code handle} on {@code stream}; checks the status. */
    abstract void setStream(H handle, Stream stream);

    /** Destroys {@code handle}; checks the status. */
    abstract void destroy(H handle);

    public CudaDevice device() {
        return device;
    }

    /** The JavaCPP handle, for library calls; call {@link CudaDevice#makeCurrent()} on the thread first. */
    public synchronized H handle() {
        if (closed) {
            throw new IllegalStateException(library + " handle: already closed");
        }
        return handle;
    }

    public synchronized Stream stream() {
        return stream;
    }

    /** Later calls with this handle are queued on {@code stream}. */
    public synchronized void bindTo(Stream stream) {
        if (stream.device() != device) {
            throw new IllegalArgumentException("stream: expected one on cuda:" + device.ordinal() + ", got one on cuda:"
                    + stream.device().ordinal());
        }
        setStream(handle(), stream);
        this.stream = stream;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        destroy(handle);
    }
}
