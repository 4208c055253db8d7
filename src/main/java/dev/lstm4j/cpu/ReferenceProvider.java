package dev.lstm4j.cpu;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.Optional;

/** The reference runs every spec in both dtypes, everywhere. */
public final class ReferenceProvider implements LstmBackendProvider {
    @Override
    public BackendKind kind() {
        return BackendKind.REFERENCE;
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    @Override
    public Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        return Optional.empty();
    }

    @Override
    public LstmBackend create(LstmSpec spec, DType dtype) {
        return new ReferenceBackend(spec, dtype);
    }
}
