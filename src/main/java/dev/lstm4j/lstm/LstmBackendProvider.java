package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import java.util.Optional;

/**
 * Discovered through {@link java.util.ServiceLoader} (META-INF/services), so that {@code lstm} never imports a
 * backend package. A provider must be cheap to construct and must not load native libraries until
 * {@link #availability()} is asked.
 */
public interface LstmBackendProvider {

    BackendKind kind();

    /** Whether the hardware and libraries this backend needs are here, and if not, why. */
    Availability availability();

    /** Empty when this backend can run {@code spec} in {@code dtype}; otherwise the reason it cannot. */
    Optional<String> unsupportedReason(LstmSpec spec, DType dtype);

    LstmBackend create(LstmSpec spec, DType dtype);

    /**
     * @param hardwareAbsent true when the reason is that the machine lacks the hardware (no GPU): skipping such a
     *                       backend is the expected path, not a fall from the fast one
     */
    record Availability(boolean available, boolean hardwareAbsent, String reason) {
        public static Availability yes() {
            return new Availability(true, false, "available");
        }

        public static Availability noHardware(String reason) {
            return new Availability(false, true, reason);
        }

        public static Availability failed(String reason) {
            return new Availability(false, false, reason);
        }
    }
}
