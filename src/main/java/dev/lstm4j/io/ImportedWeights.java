package dev.lstm4j.io;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

/**
 * Weights read from a file in some format, converted to the canonical layout, together with the way back to the
 * file's own names: {@link #export} writes parameters in the file's layout, {@link #exportGradients} writes
 * gradients of canonical parameters as gradients of the file's tensors (the adjoint of the import: for a format with
 * one bias, whose value became bias_ih with bias_hh zero, the gradient of that bias is the gradient of bias_ih).
 */
public final class ImportedWeights implements AutoCloseable {
    /** Converts canonical tensors back to the file's names and layout; {@code gradient} selects the adjoint. */
    interface Exporter {
        Map<String, Tensor> export(LstmParams canonical, Arena arena, boolean gradient);
    }

    private final WeightFormat format;
    private final LstmParams params;
    private final List<String> fileNames;
    private final Exporter exporter;

    ImportedWeights(WeightFormat format, LstmParams params, List<String> fileNames, Exporter exporter) {
        this.format = format;
        this.params = params;
        this.fileNames = List.copyOf(fileNames);
        this.exporter = exporter;
    }

    public WeightFormat format() {
        return format;
    }

    /** The canonical parameters (owned by this object until {@link #takeParams()}). */
    public LstmParams params() {
        return params;
    }

    /** The tensor names the file had, in its order. */
    public List<String> fileNames() {
        return fileNames;
    }

    /** The parameters under the file's names and layout (same dtype as the canonical ones). */
    public Map<String, Tensor> export(LstmParams canonical, Arena arena) {
        return exporter.export(canonical, arena, false);
    }

    /** Canonical parameter gradients as gradients of the file's tensors, under the file's names. */
    public Map<String, Tensor> exportGradients(LstmParams canonicalGradients, Arena arena) {
        return exporter.export(canonicalGradients, arena, true);
    }

    @Override
    public void close() {
        params.close();
    }
}
