package dev.lstm4j.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;

/** A cuBLAS handle on one device, bound to one stream at a time. Not for concurrent use from several threads. */
public final class CublasHandle extends StreamBoundHandle<cublasContext> {

    private CublasHandle(CudaDevice device, cublasContext handle) {
        super(device, handle, "cuBLAS");
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

    @Override
    void setStream(cublasContext handle, Stream stream) {
        CudaCheck.cublas("cublasSetStream_v2", cublas.cublasSetStream_v2(handle, stream.handle()));
    }

    @Override
    void destroy(cublasContext handle) {
        CudaCheck.cublas("cublasDestroy_v2", cublas.cublasDestroy_v2(handle));
    }
}
