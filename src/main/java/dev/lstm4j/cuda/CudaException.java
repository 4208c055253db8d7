package dev.lstm4j.cuda;

/**
 * A failed CUDA runtime, cuBLAS, cuDNN or kernel-launcher call: carries the library, the call, the numeric status,
 * the status name and its text, e.g.
 * {@code cudart cudaMalloc(1073741824 bytes): cudaErrorMemoryAllocation (status 2): out of memory}.
 */
public class CudaException extends RuntimeException {
    private final String library;
    private final String call;
    private final int status;
    private final String statusName;
    private final String statusText;

    public CudaException(String library, String call, int status, String statusName, String statusText) {
        super(library + " " + call + ": " + statusName + " (status " + status + "): " + statusText);
        this.library = library;
        this.call = call;
        this.status = status;
        this.statusName = statusName;
        this.statusText = statusText;
    }

    /** "cudart", "cublas", "cudnn", or the name of a kernel library. */
    public String library() { return library; }
    /** The call that failed, with the arguments that help to read the failure. */
    public String call() { return call; }
    public int status() { return status; }
    public String statusName() { return statusName; }
    public String statusText() { return statusText; }
}
