// The fused per-step LSTM kernels (forward and backward) in the haste layout: the GEMMs (input projection of all
// steps, recurrent projection of one step) run outside; one kernel per step does everything elementwise.
//
// Layouts (row-major, float32): gates [B, 4H] in order i, f, g, o; cell/hidden [B, H]; peepholes [3H] in order
// i, f, o. A batch entry b is active at step s when s < lengths[b]; sequences are already in processing order
// (the orchestration reverses each sequence for the reverse direction), so the mask is the same for both.
#pragma once

#include "activations.cuh"

namespace lstm4j {

struct CellConfig {
    Acts acts;
    int inputForget;   // f = 1 - i
    int hasClip;       // ONNX clip: bounds the input of every activation
    float clip;
    int hasCellClip;   // cuDNN cell clip: bounds c itself after the update
    float cellClip;
};

__device__ __forceinline__ float clampf_(float x, float bound) { return fminf(fmaxf(x, -bound), bound); }

__device__ __forceinline__ float clip_in(const CellConfig& cfg, float x) {
    return cfg.hasClip ? clampf_(x, cfg.clip) : x;
}

// Gradient of clip_in: 0 where the clamp was active (strictly outside the bound), else 1.
__device__ __forceinline__ float clip_grad(const CellConfig& cfg, float x) {
    return cfg.hasClip && fabsf(x) > cfg.clip ? 0.0f : 1.0f;
}

__device__ __forceinline__ float cell_clip(const CellConfig& cfg, float c) {
    return cfg.hasCellClip ? clampf_(c, cfg.cellClip) : c;
}

__device__ __forceinline__ float cell_clip_grad(const CellConfig& cfg, float c) {
    return cfg.hasCellClip && fabsf(c) > cfg.cellClip ? 0.0f : 1.0f;
}

// One step forward, one thread per (b, j) of [B, H].
//   gx [B,4H] input projection W_ih x for this step; gh [B,4H] recurrent projection W_hh h(s-1)
//   c_prev [B,H] -> c_out [B,H] (c_prev kept where inactive)
//   m_out [B,H] = o * h(c) (0 where inactive); h_prev/h_out [B,H] optional (no projection): h_out = m or h_prev
//   pre_out, gates_out [B,4H] and craw_out [B,H] optional: what backward needs (pre-activations before clip,
//   activated gates, the cell before the cell clip)
template <bool kStandard>
__global__ void lstm_forward_pointwise(int batch, int hidden, const float* __restrict__ gx,
                                       const float* __restrict__ gh, const float* __restrict__ bias_ih,
                                       const float* __restrict__ bias_hh, const float* __restrict__ peep,
                                       const float* __restrict__ c_prev, const float* __restrict__ h_prev,
                                       const int* __restrict__ lengths, int step, CellConfig cfg,
                                       float* __restrict__ c_out, float* __restrict__ m_out,
                                       float* __restrict__ h_out, float* __restrict__ pre_out,
                                       float* __restrict__ gates_out, float* __restrict__ craw_out) {
    typedef CellActs<kStandard> A;
    const int n = batch * hidden;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += blockDim.x * gridDim.x) {
        const int b = idx / hidden;
        const int j = idx - b * hidden;
        const int row = b * 4 * hidden;
        const bool active = step < lengths[b];
        const float cp = c_prev[idx];

        float ai = gx[row + j] + gh[row + j] + bias_ih[j] + bias_hh[j];
        float af = gx[row + hidden + j] + gh[row + hidden + j] + bias_ih[hidden + j] + bias_hh[hidden + j];
        float ag = gx[row + 2 * hidden + j] + gh[row + 2 * hidden + j] + bias_ih[2 * hidden + j] + bias_hh[2 * hidden + j];
        float ao = gx[row + 3 * hidden + j] + gh[row + 3 * hidden + j] + bias_ih[3 * hidden + j] + bias_hh[3 * hidden + j];
        if (peep != nullptr) {
            ai += peep[j] * cp;
            af += peep[hidden + j] * cp;
        }
        const float i = A::f(cfg.acts, clip_in(cfg, ai));
        const float f = cfg.inputForget ? 1.0f - i : A::f(cfg.acts, clip_in(cfg, af));
        const float g = A::g(cfg.acts, clip_in(cfg, ag));
        const float craw = f * cp + i * g;
        const float c = cell_clip(cfg, craw);
        if (peep != nullptr) {
            ao += peep[2 * hidden + j] * c;
        }
        const float o = A::f(cfg.acts, clip_in(cfg, ao));
        const float m = o * A::h(cfg.acts, clip_in(cfg, c));

        c_out[idx] = active ? c : cp;
        m_out[idx] = active ? m : 0.0f;
        if (h_out != nullptr) {
            h_out[idx] = active ? m : h_prev[idx];
        }
        if (pre_out != nullptr) {
            pre_out[row + j] = ai;
            pre_out[row + hidden + j] = af;
            pre_out[row + 2 * hidden + j] = ag;
            pre_out[row + 3 * hidden + j] = ao;
        }
        if (gates_out != nullptr) {
            gates_out[row + j] = i;
            gates_out[row + hidden + j] = f;
            gates_out[row + 2 * hidden + j] = g;
            gates_out[row + 3 * hidden + j] = o;
        }
        if (craw_out != nullptr) {
            craw_out[idx] = craw;
        }
    }
}

// One step backward, one thread per (b, j) of [B, H].
//   dm [B,H]: gradient of m = o * h(c) (after the projection's backward, if any)
//   dc [B,H]: in: gradient of this step's c from later steps; out: gradient of c(s-1) (in place; kept where inactive)
//   pre, gates [B,4H], craw [B,H], c_prev [B,H] = c(s-1), c_cur [B,H] = c(s): saved by the forward step
//   da_out [B,4H]: gradients of the pre-activations (0 where inactive: no gradient from padding)
//   dpeep_out [B,3H] optional: this step's peephole gradient terms, summed over steps and batch by a reduction
template <bool kStandard>
__global__ void lstm_backward_pointwise(int batch, int hidden, const float* __restrict__ dm,
                                        float* __restrict__ dc, const float* __restrict__ pre,
                                        const float* __restrict__ gates, const float* __restrict__ craw,
                                        const float* __restrict__ c_prev, const float* __restrict__ c_cur,
                                        const float* __restrict__ peep, const int* __restrict__ lengths, int step,
                                        CellConfig cfg, float* __restrict__ da_out, float* __restrict__ dpeep_out) {
    typedef CellActs<kStandard> A;
    const int n = batch * hidden;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += blockDim.x * gridDim.x) {
        const int b = idx / hidden;
        const int j = idx - b * hidden;
        const int row = b * 4 * hidden;
        const int prow = b * 3 * hidden;
        if (step >= lengths[b]) {
            da_out[row + j] = 0.0f;
            da_out[row + hidden + j] = 0.0f;
            da_out[row + 2 * hidden + j] = 0.0f;
            da_out[row + 3 * hidden + j] = 0.0f;
            if (dpeep_out != nullptr) {
                dpeep_out[prow + j] = 0.0f;
                dpeep_out[prow + hidden + j] = 0.0f;
                dpeep_out[prow + 2 * hidden + j] = 0.0f;
            }
            continue;  // the state was frozen: dc passes through unchanged
        }
        const float ai = pre[row + j];
        const float af = pre[row + hidden + j];
        const float ag = pre[row + 2 * hidden + j];
        const float ao = pre[row + 3 * hidden + j];
        const float i = gates[row + j];
        const float f = gates[row + hidden + j];
        const float g = gates[row + 2 * hidden + j];
        const float o = gates[row + 3 * hidden + j];
        const float c = c_cur[idx];
        const float cp = c_prev[idx];
        const float dmj = dm[idx];

        const float hc = A::h(cfg.acts, clip_in(cfg, c));
        const float dao = dmj * hc * A::df(cfg.acts, clip_in(cfg, ao)) * clip_grad(cfg, ao);
        float dcj = dc[idx] + dmj * o * A::dh(cfg.acts, clip_in(cfg, c)) * clip_grad(cfg, c);
        if (peep != nullptr) {
            dcj += dao * peep[2 * hidden + j];
        }
        const float dcraw = dcj * cell_clip_grad(cfg, craw[idx]);
        float di = dcraw * g;
        const float dg = dcraw * i;
        const float df = dcraw * cp;
        float dcp = dcraw * f;
        float daf = 0.0f;
        if (cfg.inputForget) {
            di -= df;
        } else {
            daf = df * A::df(cfg.acts, clip_in(cfg, af)) * clip_grad(cfg, af);
        }
        const float dai = di * A::df(cfg.acts, clip_in(cfg, ai)) * clip_grad(cfg, ai);
        const float dag = dg * A::dg(cfg.acts, clip_in(cfg, ag)) * clip_grad(cfg, ag);
        if (peep != nullptr) {
            dcp += dai * peep[j] + daf * peep[hidden + j];
        }
        if (dpeep_out != nullptr) {
            dpeep_out[prow + j] = dai * cp;
            dpeep_out[prow + hidden + j] = daf * cp;
            dpeep_out[prow + 2 * hidden + j] = dao * c;
        }
        da_out[row + j] = dai;
        da_out[row + hidden + j] = daf;
        da_out[row + 2 * hidden + j] = dag;
        da_out[row + 3 * hidden + j] = dao;
        dc[idx] = dcp;
    }
}

}  // namespace lstm4j
