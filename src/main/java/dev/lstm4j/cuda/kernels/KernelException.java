package dev.lstm4j.cuda.kernels;

/** A kernel library that cannot be loaded, or a launcher or device operation that returned a failure status. */
public final class KernelException extends RuntimeException {
    public KernelException(String message) {
        super(message);
    }

    public KernelException(String message, Throwable cause) {
        super(message, cause);
    }
}
