package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmBackend;
import dev.lstm4j.lstm.LstmGradients;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.lstm.LstmOutput;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmShapes;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.lstm.ResultArena;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;

/** lstm4j's own kernels behind the backend SPI: the orchestration of {@link KernelLstm} on one {@link DeviceOps}. */
final class KernelBackend implements LstmBackend {
    private final BackendKind kind;
    private final LstmSpec spec;
    private final DeviceOps ops;
    private final FrozenDeviceWeights frozen;
    private final KernelLstm lstm;
    private boolean closed;

    KernelBackend(BackendKind kind, LstmSpec spec, DeviceOps ops) {
        this.kind = kind;
        this.spec = spec;
        this.ops = ops;
        this.frozen = new FrozenDeviceWeights(ops);
        this.lstm = new KernelLstm(spec, ops, frozen);
    }

    /** The device copies of frozen parameters that calls keep (for tests). */
    FrozenDeviceWeights frozenWeights() {
        return frozen;
    }

    @Override
    public BackendKind kind() {
        return kind;
    }

    @Override
    public LstmOutput forward(LstmParams params, LstmInput input, ResultArena results) {
        requireOpen();
        LstmShapes.checkParams(spec, DType.FLOAT32, params);
        LstmShapes.checkInput(spec, DType.FLOAT32, input); // copied to the device as float32 bytes
        return lstm.forward(params, input, results);
    }

    @Override
    public LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn,
                                  Tensor gradCn, ResultArena results) {
        requireOpen();
        LstmShapes.checkParams(spec, DType.FLOAT32, params);
        LstmInput in = forward.input();
        LstmShapes.checkGradients(spec, DType.FLOAT32, in.seqLength(spec), in.batchSize(spec), gradOutput, gradHn,
                gradCn);
        return lstm.backward(params, forward, gradOutput, gradHn, gradCn, results);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(kind.label() + " backend: expected an open backend, got a closed one");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                frozen.close();
            } finally {
                ops.close();
            }
        }
    }
}
