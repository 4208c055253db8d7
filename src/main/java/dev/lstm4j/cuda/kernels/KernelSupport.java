package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;

/** What both kernel backends can run: every variant of the spec, in float32. */
final class KernelSupport {
    private KernelSupport() {}

    static Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        if (dtype != DType.FLOAT32) {
            return Optional.of("lstm4j's kernels compute in float32 only, got " + dtype
                    + " (use DType.FLOAT32, or the reference backend for float64)");
        }
        return Optional.empty();
    }
}
