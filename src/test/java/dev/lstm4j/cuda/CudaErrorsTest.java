package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CudaErrorsTest {
    @Test
    void knownAndUnknownStatusesAreNamed() {
        CudaException e = CudaErrors.exception("liblstm4j_kernels", "lstm_forward_launch", 35);
        assertEquals("liblstm4j_kernels lstm_forward_launch: cudaErrorInsufficientDriver (status 35): "
                + "CUDA driver version is insufficient for CUDA runtime version", e.getMessage());
        assertEquals(35, e.status());
        assertEquals("lstm_forward_launch", e.call());
        assertEquals("cudaError 12345", CudaErrors.name(12345));
    }
}
