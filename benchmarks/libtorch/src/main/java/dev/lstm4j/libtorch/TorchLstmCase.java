package dev.lstm4j.libtorch;

import static org.bytedeco.pytorch.global.torch.get_num_threads;
import static org.bytedeco.pytorch.global.torch.grad;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.set_num_threads;
import static org.bytedeco.pytorch.global.torch.zeros;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LSTMImpl;
import org.bytedeco.pytorch.LSTMOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * One workload on libtorch's {@code torch::nn::LSTM}, float32 on the CPU, timed the way lstm4j's {@code BenchCase}
 * and {@code benchmarks/pytorch/lstm_bench.py} time theirs: inference is one forward pass under no_grad; training is
 * a forward pass and the backward pass of every gradient (input, h0, c0 and every parameter, through
 * {@code torch::autograd::grad}, so nothing accumulates between steps), no optimizer step. The module and the
 * tensors are made once and freed by {@link #close}; each step's own are freed at its end.
 */
final class TorchLstmCase implements AutoCloseable {
    private final Workload workload;
    private final boolean training;
    private final int threads;
    private final LSTMImpl lstm;
    private final Tensor x;       // [T, B, I]
    private final Tensor h0;      // [L*D, B, H]
    private final Tensor c0;      // [L*D, B, H]
    private final Tensor dy;      // [T, B, D*H], training only
    private final TensorVector gradInputs; // x, h0, c0 and every parameter, training only

    TorchLstmCase(Workload workload, boolean training, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
        }
        this.workload = workload;
        this.training = training;
        this.threads = threads;
        set_num_threads(threads);
        manual_seed(1);
        try (LSTMOptions options = new LSTMOptions(workload.inputSize(), workload.hiddenSize())) {
            options.num_layers().put(workload.layers());
            options.bidirectional().put(workload.bidirectional());
            lstm = new LSTMImpl(options);
        }
        lstm.train(training);
        int states = workload.layers() * workload.directions();
        x = zeros(workload.seqLength(), workload.batch(), workload.inputSize())
                .uniform_(-1, 1, new GeneratorOptional());
        h0 = zeros(states, workload.batch(), workload.hiddenSize());
        c0 = zeros(states, workload.batch(), workload.hiddenSize());
        if (training) {
            x.requires_grad_(true);
            h0.requires_grad_(true);
            c0.requires_grad_(true);
            dy = zeros(workload.seqLength(), workload.batch(), workload.directions() * workload.hiddenSize())
                    .uniform_(-1, 1, new GeneratorOptional());
            gradInputs = new TensorVector(x, h0, c0);
            TensorVector params = lstm.parameters();
            for (long k = 0; k < params.size(); k++) {
                gradInputs.push_back(params.get(k));
            }
        } else {
            dy = null;
            gradInputs = null;
        }
    }

    /** One timed step; returns a value that depends on the result, so that nothing is optimised away. */
    double step() {
        // at::set_num_threads sets OpenMP's count for the calling thread; JMH may call from another than the setup's
        if (get_num_threads() != threads) {
            set_num_threads(threads);
        }
        try (PointerScope stepScope = new PointerScope()) {
            if (!training) {
                try (NoGradGuard noGrad = new NoGradGuard()) {
                    Tensor y = lstm.forward(x, new T_TensorTensor_T(h0, c0)).get0();
                    return y.data_ptr_float().get();
                }
            }
            Tensor y = lstm.forward(x, new T_TensorTensor_T(h0, c0)).get0();
            TensorVector grads = grad(new TensorVector(y), gradInputs, new TensorVector(dy), new BoolOptional(),
                    false, false);
            return grads.get(0).data_ptr_float().get();
        }
    }

    Workload workload() {
        return workload;
    }

    @Override
    public void close() {
        for (Pointer p : new Pointer[] {gradInputs, dy, c0, h0, x, lstm}) {
            if (p != null) {
                p.close();
            }
        }
    }
}
