package dev.lstm4j.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;

/**
 * Turns a status from the CUDA runtime, cuBLAS or cuDNN into a {@link CudaException} with the call, the status name
 * and its text. Use only after {@link CudaLibraries} loaded the library in question.
 */
public final class CudaCheck {
    private CudaCheck() {}

    public static void cudart(String call, int status) {
        if (status != cudart.cudaSuccess) {
            throw new CudaException("cudart", call, status, string(cudart.cudaGetErrorName(status)),
                    string(cudart.cudaGetErrorString(status)));
        }
    }

    public static void cublas(String call, int status) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException("cublas", call, status, string(cublas.cublasGetStatusName(status)),
                    string(cublas.cublasGetStatusString(status)));
        }
    }

    public static void cudnn(String call, int status) {
        if (status != cudnn.CUDNN_STATUS_SUCCESS) {
            String text = string(cudnn.cudnnGetErrorString(status));
            throw new CudaException("cudnn", call, status, text, lastCudnnMessage(text));
        }
    }

    /**
     * A status returned by an lstm4j kernel launcher (a {@code cudaError_t} from its own static runtime): the name
     * and text come from the runtime JavaCPP loaded when it is there, else from {@link CudaErrors}.
     */
    public static void kernel(String library, String call, int status) {
        if (status == 0) {
            return;
        }
        if (CudaLibraries.cudart().loaded()) {
            throw new CudaException(library, call, status, string(cudart.cudaGetErrorName(status)),
                    string(cudart.cudaGetErrorString(status)));
        }
        throw new CudaException(library, call, status, CudaErrors.name(status), CudaErrors.text(status));
    }

    /** cuDNN 9 keeps a message about the last failure; it often names the argument cuDNN disliked. */
    private static String lastCudnnMessage(String fallback) {
        try (BytePointer message = new BytePointer(1024)) {
            cudnn.cudnnGetLastErrorString(message, 1024);
            String s = message.getString().strip();
            return s.isEmpty() ? fallback : s;
        } catch (RuntimeException | LinkageError e) {
            return fallback;
        }
    }

    private static String string(BytePointer p) {
        return p == null || p.isNull() ? "?" : p.getString();
    }
}
