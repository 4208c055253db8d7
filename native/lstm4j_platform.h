// What the launchers need from "CUDA": the real runtime under nvcc, the serial emulation under g++.
#pragma once

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define LSTM4J_LAUNCH(kernel, grid, block, stream, ...) \
    kernel<<<(grid), (block), 0, (cudaStream_t)(stream)>>>(__VA_ARGS__)
inline cudaError_t lstm4j_last_launch_error() { return cudaGetLastError(); }
inline const char* lstm4j_runtime_status_text(int status) { return cudaGetErrorString((cudaError_t)status); }
inline int lstm4j_runtime_device_count(int* count) { return (int)cudaGetDeviceCount(count); }
#define LSTM4J_BUILD "cuda"
#else
#include <math.h>
#include "cuda_host_emulation.h"
inline const char* lstm4j_runtime_status_text(int) { return "unknown status"; }
inline int lstm4j_runtime_device_count(int* count) {  // the host itself is the one "device"
    *count = 1;
    return 0;
}
#define LSTM4J_BUILD "host"
#endif
