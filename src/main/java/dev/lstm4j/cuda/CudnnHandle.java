package dev.lstm4j.cuda;

import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cudnn;

/** A cuDNN handle on one device, bound to one stream at a time. Not for concurrent use from several threads. */
public final class CudnnHandle extends StreamBoundHandle<cudnnContext> {

    private CudnnHandle(CudaDevice device, cudnnContext handle) {
        super(device, handle, "cuDNN");
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

    @Override
    void setStream(cudnnContext handle, Stream stream) {
        CudaCheck.cudnn("cudnnSetStream", cudnn.cudnnSetStream(handle, stream.handle()));
    }

    @Override
    void destroy(cudnnContext handle) {
        CudaCheck.cudnn("cudnnDestroy", cudnn.cudnnDestroy(handle));
    }
}
