// Lets the CUDA kernel sources in kernels/ compile with a plain C++ compiler (g++ -x c++ -std=c++17) and run on
// the host: the CUDA qualifiers become nothing, threadIdx/blockIdx/blockDim/gridDim are per-thread globals, and a
// launch runs the kernel body once for every (block, thread) of the grid, one after the other.
//
// Serial emulation is exact only for kernels whose threads are independent: the grid-stride elementwise loops and
// per-column reductions in kernels/. It does not emulate __syncthreads, shared memory, warp shuffles or atomics;
// no kernel here uses them, and any that ever does needs its own GPU-only test.
#pragma once
#ifdef __CUDACC__
#error "cuda_host_emulation.h is for host builds only; nvcc uses the real CUDA runtime"
#endif

#include <cmath>
#include <cstdint>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace lstm4j_emulation {
inline thread_local dim3 threadIdx_;
inline thread_local dim3 blockIdx_;
inline thread_local dim3 blockDim_;
inline thread_local dim3 gridDim_;
}  // namespace lstm4j_emulation

#define threadIdx (::lstm4j_emulation::threadIdx_)
#define blockIdx (::lstm4j_emulation::blockIdx_)
#define blockDim (::lstm4j_emulation::blockDim_)
#define gridDim (::lstm4j_emulation::gridDim_)

typedef void* cudaStream_t;
typedef int cudaError_t;
#define cudaSuccess 0

// Runs kernel(args...) for every thread of a one-dimensional grid, serially. The stream is ignored: on the host
// every launch has finished when the macro returns.
#define LSTM4J_LAUNCH(kernel, grid, block, stream, ...)                                      \
    do {                                                                                     \
        (void)(stream);                                                                      \
        ::lstm4j_emulation::gridDim_ = dim3((grid));                                         \
        ::lstm4j_emulation::blockDim_ = dim3((block));                                       \
        for (unsigned int bx_ = 0; bx_ < (unsigned int)(grid); ++bx_) {                      \
            ::lstm4j_emulation::blockIdx_ = dim3(bx_);                                       \
            for (unsigned int tx_ = 0; tx_ < (unsigned int)(block); ++tx_) {                 \
                ::lstm4j_emulation::threadIdx_ = dim3(tx_);                                  \
                kernel(__VA_ARGS__);                                                         \
            }                                                                                \
        }                                                                                    \
    } while (0)

// After a host launch nothing can have gone wrong asynchronously.
inline cudaError_t lstm4j_last_launch_error() { return cudaSuccess; }
