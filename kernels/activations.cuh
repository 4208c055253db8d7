// The ONNX LSTM activations (operator set 7+) and their derivatives, for float32 device code.
// Kind numbers are the ABI between Java (NativeKernels.activationCode) and the kernels.
#pragma once

namespace lstm4j {

enum ActKind : int {
    ACT_SIGMOID = 0,
    ACT_TANH = 1,
    ACT_RELU = 2,
    ACT_AFFINE = 3,
    ACT_LEAKY_RELU = 4,
    ACT_THRESHOLDED_RELU = 5,
    ACT_SCALED_TANH = 6,
    ACT_HARD_SIGMOID = 7,
    ACT_ELU = 8,
    ACT_SOFTSIGN = 9,
    ACT_SOFTPLUS = 10,
};

struct Act {
    int kind;
    float alpha;
    float beta;
};

__device__ __forceinline__ float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float act_apply(const Act& a, float x) {
    switch (a.kind) {
        case ACT_SIGMOID: return sigmoidf_(x);
        case ACT_TANH: return tanhf(x);
        case ACT_RELU: return fmaxf(0.0f, x);
        case ACT_AFFINE: return a.alpha * x + a.beta;
        case ACT_LEAKY_RELU: return x >= 0.0f ? x : a.alpha * x;
        case ACT_THRESHOLDED_RELU: return x > a.alpha ? x : 0.0f;
        case ACT_SCALED_TANH: return a.alpha * tanhf(a.beta * x);
        case ACT_HARD_SIGMOID: return fminf(fmaxf(a.alpha * x + a.beta, 0.0f), 1.0f);
        case ACT_ELU: return x >= 0.0f ? x : a.alpha * (expf(x) - 1.0f);
        case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
        case ACT_SOFTPLUS: return x > 30.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
        default: return nanf("");
    }
}

// d act_apply(x) / dx; at a kink, the side that ONNX's defining inequality includes (as the Java Activation does).
__device__ __forceinline__ float act_derivative(const Act& a, float x) {
    switch (a.kind) {
        case ACT_SIGMOID: {
            float s = sigmoidf_(x);
            return s * (1.0f - s);
        }
        case ACT_TANH: {
            float t = tanhf(x);
            return 1.0f - t * t;
        }
        case ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
        case ACT_AFFINE: return a.alpha;
        case ACT_LEAKY_RELU: return x >= 0.0f ? 1.0f : a.alpha;
        case ACT_THRESHOLDED_RELU: return x > a.alpha ? 1.0f : 0.0f;
        case ACT_SCALED_TANH: {
            float t = tanhf(a.beta * x);
            return a.alpha * a.beta * (1.0f - t * t);
        }
        case ACT_HARD_SIGMOID: {
            float y = a.alpha * x + a.beta;
            return (y > 0.0f && y < 1.0f) ? a.alpha : 0.0f;
        }
        case ACT_ELU: return x >= 0.0f ? 1.0f : a.alpha * expf(x);
        case ACT_SOFTSIGN: {
            float d = 1.0f + fabsf(x);
            return 1.0f / (d * d);
        }
        case ACT_SOFTPLUS: return sigmoidf_(x);
        default: return nanf("");
    }
}

// The three activations of a cell. Standard = sigmoid, tanh, tanh with no parameters: the kernels are instantiated
// for it with the functions inlined, and for everything else with a switch on a kind that is the same for every
// thread of the grid (no divergence), so the choice never branches per element in the common case.
struct Acts {
    Act f;  // gates i, f, o
    Act g;  // cell candidate
    Act h;  // cell fed to the output
};

template <bool kStandard>
struct CellActs;

template <>
struct CellActs<true> {
    __device__ __forceinline__ static float f(const Acts&, float x) { return sigmoidf_(x); }
    __device__ __forceinline__ static float g(const Acts&, float x) { return tanhf(x); }
    __device__ __forceinline__ static float h(const Acts&, float x) { return tanhf(x); }
    __device__ __forceinline__ static float df(const Acts&, float x) {
        float s = sigmoidf_(x);
        return s * (1.0f - s);
    }
    __device__ __forceinline__ static float dg(const Acts&, float x) {
        float t = tanhf(x);
        return 1.0f - t * t;
    }
    __device__ __forceinline__ static float dh(const Acts& a, float x) { return dg(a, x); }
};

template <>
struct CellActs<false> {
    __device__ __forceinline__ static float f(const Acts& a, float x) { return act_apply(a.f, x); }
    __device__ __forceinline__ static float g(const Acts& a, float x) { return act_apply(a.g, x); }
    __device__ __forceinline__ static float h(const Acts& a, float x) { return act_apply(a.h, x); }
    __device__ __forceinline__ static float df(const Acts& a, float x) { return act_derivative(a.f, x); }
    __device__ __forceinline__ static float dg(const Acts& a, float x) { return act_derivative(a.g, x); }
    __device__ __forceinline__ static float dh(const Acts& a, float x) { return act_derivative(a.h, x); }
};

}  // namespace lstm4j
