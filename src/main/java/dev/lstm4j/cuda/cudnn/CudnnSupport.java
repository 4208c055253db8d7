package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which LSTM variants cuDNN's RNN API can run. cuDNN's LSTM is the standard cell (sigmoid, tanh, tanh) with optional
 * projection, double bias, bidirectional stacking, inter-layer dropout and a clamp of the cell state after each update
 * ({@code cudnnRNNSetClip_v9}, which is our {@link LstmSpec#cellClip()}). It has no peepholes, no coupled input-forget
 * gate, no other activations and no ONNX-style clip of the activation inputs.
 */
public final class CudnnSupport {
    private CudnnSupport() {}

    /** Empty when cuDNN can run the spec in the dtype; otherwise every reason it cannot, in one sentence. */
    public static Optional<String> unsupportedReason(LstmSpec spec, DType dtype) {
        List<String> why = new ArrayList<>();
        if (spec.peepholes()) {
            why.add("cuDNN's LSTM has no peephole connections");
        }
        if (spec.inputForget()) {
            why.add("cuDNN's LSTM has no coupled input-forget gate (inputForget)");
        }
        if (!spec.hasStandardActivations()) {
            why.add("cuDNN's LSTM only uses sigmoid/tanh/tanh, not " + spec.gateActivation() + "/"
                    + spec.cellActivation() + "/" + spec.hiddenActivation());
        }
        if (spec.hasClip()) {
            why.add("cuDNN has no ONNX clip of the activation inputs (clip=" + spec.clip()
                    + "); its cell clip is LstmSpec.cellClip");
        }
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
            why.add("cuDNN's LSTM runs float32 or float64 here, not " + dtype);
        }
        return why.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", why));
    }
}
