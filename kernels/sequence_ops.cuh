// Elementwise helpers the orchestration needs around the per-step kernels: layout changes and sequence reversal,
// masked state selection, sums, fills and column reductions. All are grid-stride loops with independent threads.
#pragma once

namespace lstm4j {

// dst(t, b, k) (+)= src(t', b, k) for t < T, b < B, k < W, with element (t, b, k) of a tensor at
// t * strideT + b * strideB + k. Without lengths t' = t (or T-1-t when reversing). With lengths, t >= lengths[b]
// gives 0 and t' = lengths[b]-1-t when reversing: each sequence is reversed within its own length.
__global__ void seq_copy(int steps, int batch, int width, const float* __restrict__ src, long long src_t,
                         long long src_b, float* __restrict__ dst, long long dst_t, long long dst_b,
                         const int* __restrict__ lengths, int reverse, int accumulate) {
    const long long n = (long long)steps * batch * width;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n;
         idx += (long long)blockDim.x * gridDim.x) {
        const int k = (int)(idx % width);
        const long long tb = idx / width;
        const int b = (int)(tb % batch);
        const int t = (int)(tb / batch);
        const int len = lengths != nullptr ? lengths[b] : steps;
        float v = 0.0f;
        if (t < len) {
            const int ts = reverse ? len - 1 - t : t;
            v = src[ts * src_t + b * src_b + k];
        }
        float* d = dst + (t * dst_t + b * dst_b + k);
        *d = accumulate ? *d + v : v;
    }
}

// out[b, k] = step < lengths[b] ? when_active[b, k] : when_inactive[b, k]; out may alias either input.
__global__ void mask_select(int batch, int width, const float* when_active, const float* when_inactive,
                            const int* __restrict__ lengths, int step, float* out) {
    const int n = batch * width;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += blockDim.x * gridDim.x) {
        const int b = idx / width;
        out[idx] = step < lengths[b] ? when_active[idx] : when_inactive[idx];
    }
}

// out = a + b, or out = a * b; out may alias a or b.
__global__ void add_arrays(long long n, const float* a, const float* b, float* out) {
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n;
         idx += (long long)blockDim.x * gridDim.x) {
        out[idx] = a[idx] + b[idx];
    }
}

__global__ void multiply_arrays(long long n, const float* a, const float* b, float* out) {
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n;
         idx += (long long)blockDim.x * gridDim.x) {
        out[idx] = a[idx] * b[idx];
    }
}

__global__ void fill_array(long long n, float value, float* __restrict__ out) {
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n;
         idx += (long long)blockDim.x * gridDim.x) {
        out[idx] = value;
    }
}

// dst[c] (+)= sum over r of src[r, c]: one thread per column walks the rows, so no thread shares an output
// (bias and peephole gradients: rows = T*B, columns = 4H or 3H).
__global__ void column_sum(int rows, int cols, const float* __restrict__ src, float* __restrict__ dst,
                           int accumulate) {
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += blockDim.x * gridDim.x) {
        float acc = 0.0f;
        for (int r = 0; r < rows; ++r) {
            acc += src[(long long)r * cols + c];
        }
        dst[c] = accumulate ? dst[c] + acc : acc;
    }
}

}  // namespace lstm4j
