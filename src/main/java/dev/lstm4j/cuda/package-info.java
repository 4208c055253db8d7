/**
 * The CUDA runtime of lstm4j: finding the GPU, device memory, streams, events, and the cuBLAS/cuDNN handles.
 *
 * <p><b>Order of things.</b> {@link dev.lstm4j.cuda.CudaDriver} finds the driver and devices through FFM on
 * {@code libcuda.so.1} and never touches JavaCPP. {@link dev.lstm4j.cuda.CudaLibraries} loads JavaCPP's cudart,
 * cuBLAS and cuDNN only when a GPU is present, once, reporting a library that fails with its cause. Everything else
 * here ({@link dev.lstm4j.cuda.CudaDevice}, {@link dev.lstm4j.cuda.Stream}, ...) may be used only after
 * {@code CudaDriver.gpuPresent()} and needs the CUDA runtime ({@code CudaDevice.get} checks both).
 *
 * <p><b>For native code called through FFM</b> (own kernels): take device addresses from
 * {@link dev.lstm4j.cuda.DeviceBuffer#address()} (or {@code tensor.deviceMemory().address()}) and the stream from
 * {@link dev.lstm4j.cuda.Stream#address()} (a {@code cudaStream_t}); allocate with
 * {@code device.allocator().allocate(bytes, stream)} and close the buffer to give it back; turn a launcher's
 * {@code cudaError_t} into an exception with {@link dev.lstm4j.cuda.CudaCheck#kernel(String, String, int)}
 * (or {@link dev.lstm4j.cuda.CudaErrors#exception} where no CUDA runtime is loaded, e.g. the host build).
 * cuBLAS: {@code CublasHandle.create(device, stream)} or the device's shared {@code device.cublas()}, calls through
 * {@code org.bytedeco.cuda.global.cublas} with {@link dev.lstm4j.cuda.DevicePointers} and status checks by
 * {@link dev.lstm4j.cuda.CudaCheck#cublas(String, int)}.
 */
package dev.lstm4j.cuda;
