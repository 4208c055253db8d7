package dev.lstm4j.cpu;

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
import java.util.SplittableRandom;

/**
 * The reference LSTM: plain Java, one sequence at a time, one step at a time, written for exactness. Every other
 * backend is checked against it. Stacking, directions, masking and inter-layer dropout are handled here; the step
 * itself is {@link ReferenceCell}.
 *
 * <p>Masking (DESIGN.md): a sequence of length L is read at steps 0..L-1 only (the reverse direction starts at L-1),
 * its outputs at t >= L are zero, its final state is the state after its last valid step, and gradients given for
 * t >= L are ignored.
 */
public final class ReferenceBackend implements LstmBackend {
    private final LstmSpec spec;
    private final DType dtype;
    private final Precision precision;

    public ReferenceBackend(LstmSpec spec, DType dtype) {
        this.spec = spec;
        this.dtype = dtype;
        this.precision = Precision.of(dtype);
    }

    @Override
    public BackendKind kind() {
        return BackendKind.REFERENCE;
    }

    /** Everything forward kept for backward. Plain Java memory, so closing frees nothing. */
    private static final class Trace implements AutoCloseable {
        ReferenceCell.Step[][][][] steps; // [layer][dir][batch][step]
        double[][][][] dropoutMasks;      // [layer][T][B][width] scale factors for the input of layer l, null if none
        int[] lengths;

        @Override
        public void close() {}
    }

    @Override
    public LstmOutput forward(LstmParams params, LstmInput in, ResultArena results) {
        LstmShapes.checkParams(spec, dtype, params);
        LstmShapes.checkInput(spec, dtype, in);
        int seqLength = in.seqLength(spec);
        int batch = in.batchSize(spec);
        int dirs = spec.numDirections();
        int out = spec.outputSize();
        int[] lengths = in.effectiveLengths(spec);
        double[][][] h0 = SequenceArrays.readState(in.h0(), spec.numLayers() * dirs, batch, out);
        double[][][] c0 = SequenceArrays.readState(in.c0(), spec.numLayers() * dirs, batch, spec.hiddenSize());
        double[][][] hN = new double[spec.numLayers() * dirs][batch][];
        double[][][] cN = new double[spec.numLayers() * dirs][batch][];

        Trace trace = in.isTraining() ? new Trace() : null;
        if (trace != null) {
            trace.steps = new ReferenceCell.Step[spec.numLayers()][dirs][batch][];
            trace.dropoutMasks = new double[spec.numLayers()][][][];
            trace.lengths = lengths;
        }
        SplittableRandom dropoutRandom = new SplittableRandom(in.dropoutSeed());

        double[][][] layerIn = SequenceArrays.read(in.input(), spec.batchFirst(), seqLength, batch, spec.inputSize());
        double[][][] layerOut = null;
        for (int l = 0; l < spec.numLayers(); l++) {
            if (l > 0 && in.isTraining() && spec.dropout() > 0) {
                double[][][] mask = dropoutMask(dropoutRandom, seqLength, batch, layerIn[0][0].length);
                layerIn = multiply(layerIn, mask);
                trace.dropoutMasks[l] = mask;
            }
            layerOut = new double[seqLength][batch][dirs * out];
            for (int d = 0; d < dirs; d++) {
                ReferenceCell cell = new ReferenceCell(spec, precision, CellWeights.read(params, l, d));
                int state = l * dirs + d;
                for (int b = 0; b < batch; b++) {
                    int len = lengths[b];
                    double[] h = h0[state][b];
                    double[] c = c0[state][b];
                    ReferenceCell.Step[] steps = new ReferenceCell.Step[len];
                    for (int s = 0; s < len; s++) {
                        int t = d == 0 ? s : len - 1 - s;
                        ReferenceCell.Step step = cell.forward(layerIn[t][b], h, c);
                        System.arraycopy(step.h, 0, layerOut[t][b], d * out, out);
                        h = step.h;
                        c = step.c;
                        steps[s] = step;
                    }
                    hN[state][b] = h;
                    cN[state][b] = c;
                    if (trace != null) {
                        trace.steps[l][d][b] = steps;
                    }
                }
            }
            layerIn = layerOut;
        }

        try {
            Tensor output = results.zeros(dtype, LstmShapes.outputShape(spec, seqLength, batch));
            Tensor hNt = results.zeros(dtype, LstmShapes.hiddenStateShape(spec, batch));
            Tensor cNt = results.zeros(dtype, LstmShapes.cellStateShape(spec, batch));
            SequenceArrays.write(layerOut, output, spec.batchFirst()); // on this thread: no writable views needed
            SequenceArrays.write(hN, hNt, false);
            SequenceArrays.write(cN, cNt, false);
            return new LstmOutput(results, output, hNt, cNt, in, trace);
        } catch (RuntimeException | Error e) {
            results.close();
            throw e;
        }
    }

    @Override
    public LstmGradients backward(LstmParams params, LstmOutput forward, Tensor gradOutput, Tensor gradHn, Tensor gradCn,
                                  ResultArena results) {
        LstmShapes.checkParams(spec, dtype, params);
        Trace trace = forward.saved(Trace.class);
        LstmInput in = forward.input();
        int seqLength = in.seqLength(spec);
        int batch = in.batchSize(spec);
        LstmShapes.checkGradients(spec, dtype, seqLength, batch, gradOutput, gradHn, gradCn);
        int dirs = spec.numDirections();
        int out = spec.outputSize();
        int states = spec.numLayers() * dirs;
        double[][][] dOut = SequenceArrays.read(gradOutput, spec.batchFirst(), seqLength, batch, dirs * out);
        double[][][] dhN = SequenceArrays.readState(gradHn, states, batch, out);
        double[][][] dcN = SequenceArrays.readState(gradCn, states, batch, spec.hiddenSize());
        double[][][] dh0 = new double[states][batch][];
        double[][][] dc0 = new double[states][batch][];
        CellWeights[][] weightGrads = new CellWeights[spec.numLayers()][dirs];

        double[][][] dIn = null;
        for (int l = spec.numLayers() - 1; l >= 0; l--) {
            dIn = new double[seqLength][batch][spec.layerInputSize(l)];
            for (int d = 0; d < dirs; d++) {
                CellWeights weights = CellWeights.read(params, l, d);
                CellWeights grad = CellWeights.zerosLike(weights);
                ReferenceCell cell = new ReferenceCell(spec, precision, weights);
                int state = l * dirs + d;
                for (int b = 0; b < batch; b++) {
                    ReferenceCell.Step[] steps = trace.steps[l][d][b];
                    int len = trace.lengths[b];
                    double[] dh = dhN[state][b];
                    double[] dc = dcN[state][b];
                    for (int s = len - 1; s >= 0; s--) {
                        int t = d == 0 ? s : len - 1 - s;
                        double[] dhTotal = new double[out];
                        for (int k = 0; k < out; k++) {
                            dhTotal[k] = precision.r(dh[k] + dOut[t][b][d * out + k]);
                        }
                        double[][] prev = cell.backward(steps[s], dhTotal, dc, grad, dIn[t][b]);
                        dh = prev[0];
                        dc = prev[1];
                    }
                    dh0[state][b] = dh;
                    dc0[state][b] = dc;
                }
                weightGrads[l][d] = grad;
            }
            if (trace.dropoutMasks[l] != null) {
                dIn = multiply(dIn, trace.dropoutMasks[l]);
            }
            dOut = dIn;
        }

        try { // all written on this thread: no writable views needed
            LstmParams grads = LstmParams.zeros(spec, dtype, results);
            for (int l = 0; l < spec.numLayers(); l++) {
                for (int d = 0; d < dirs; d++) {
                    weightGrads[l][d].writeTo(grads, l, d);
                }
            }
            Tensor dInput = results.zeros(dtype, in.input().shape());
            Tensor dh0t = results.zeros(dtype, LstmShapes.hiddenStateShape(spec, batch));
            Tensor dc0t = results.zeros(dtype, LstmShapes.cellStateShape(spec, batch));
            SequenceArrays.write(dIn, dInput, spec.batchFirst());
            SequenceArrays.write(dh0, dh0t, false);
            SequenceArrays.write(dc0, dc0t, false);
            return new LstmGradients(results, dInput, dh0t, dc0t, grads);
        } catch (RuntimeException | Error e) {
            results.close();
            throw e;
        }
    }

    /** Inverted dropout: each element kept with probability 1-p and scaled by 1/(1-p). */
    private double[][][] dropoutMask(SplittableRandom random, int seqLength, int batch, int width) {
        double keep = 1.0 - spec.dropout();
        double scale = precision.r(1.0 / keep);
        double[][][] mask = new double[seqLength][batch][width];
        for (double[][] step : mask) {
            for (double[] row : step) {
                for (int k = 0; k < width; k++) {
                    row[k] = random.nextDouble() < keep ? scale : 0.0;
                }
            }
        }
        return mask;
    }

    private double[][][] multiply(double[][][] a, double[][][] mask) {
        double[][][] r = new double[a.length][a[0].length][a[0][0].length];
        for (int t = 0; t < a.length; t++) {
            for (int b = 0; b < a[0].length; b++) {
                for (int k = 0; k < a[0][0].length; k++) {
                    r[t][b][k] = precision.r(a[t][b][k] * mask[t][b][k]);
                }
            }
        }
        return r;
    }
}
