package dev.lstm4j.cuda.kernels;

import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.Tensor;

/** The float32 parameters of one call, copied to device memory in their canonical layouts. */
final class DeviceWeights {
    private final DevicePtr[][][] ptrs; // [layer][dir][kind]

    static final int W_IH = 0;  // [4H, in]
    static final int W_HH = 1;  // [4H, P or H]
    static final int B_IH = 2;  // [4H]
    static final int B_HH = 3;  // [4H]
    static final int W_HR = 4;  // [P, H] or NULL
    static final int PEEP = 5;  // [3H] i, f, o, or NULL

    private DeviceWeights(DevicePtr[][][] ptrs) {
        this.ptrs = ptrs;
    }

    static DeviceWeights upload(DeviceOps ops, DeviceOps.Workspace ws, LstmParams params) {
        LstmSpec spec = params.spec();
        DevicePtr[][][] p = new DevicePtr[spec.numLayers()][spec.numDirections()][6];
        for (int l = 0; l < spec.numLayers(); l++) {
            for (int d = 0; d < spec.numDirections(); d++) {
                p[l][d][W_IH] = copy(ops, ws, params.weightIh(l, d));
                p[l][d][W_HH] = copy(ops, ws, params.weightHh(l, d));
                p[l][d][B_IH] = copy(ops, ws, params.biasIh(l, d));
                p[l][d][B_HH] = copy(ops, ws, params.biasHh(l, d));
                p[l][d][W_HR] = spec.projSize() > 0 ? copy(ops, ws, params.weightHr(l, d)) : DevicePtr.NULL;
                p[l][d][PEEP] = spec.peepholes() ? copy(ops, ws, params.weightPeep(l, d)) : DevicePtr.NULL;
            }
        }
        return new DeviceWeights(p);
    }

    DevicePtr get(int layer, int dir, int kind) {
        return ptrs[layer][dir][kind];
    }

    private static DevicePtr copy(DeviceOps ops, DeviceOps.Workspace ws, Tensor t) {
        DevicePtr dst = ws.floats(t.elementCount());
        ops.upload(t.segment(), dst, t.byteSize());
        return dst;
    }
}
