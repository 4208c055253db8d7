package dev.lstm4j.cuda;

import java.util.Map;

/**
 * Names and texts of the common {@code cudaError_t} values, for statuses that come from a kernel library built with a
 * static runtime when JavaCPP's cudart is not loaded (no driver, or the host build). Values as in CUDA 12's
 * {@code driver_types.h}.
 */
public final class CudaErrors {
    private CudaErrors() {}

    private record Entry(String name, String text) {}

    private static final Map<Integer, Entry> KNOWN = Map.ofEntries(
            Map.entry(0, new Entry("cudaSuccess", "no error")),
            Map.entry(1, new Entry("cudaErrorInvalidValue", "invalid argument")),
            Map.entry(2, new Entry("cudaErrorMemoryAllocation", "out of memory")),
            Map.entry(3, new Entry("cudaErrorInitializationError", "initialization error")),
            Map.entry(9, new Entry("cudaErrorInvalidConfiguration", "invalid configuration argument")),
            Map.entry(34, new Entry("cudaErrorStubLibrary", "CUDA driver is a stub library")),
            Map.entry(35, new Entry("cudaErrorInsufficientDriver",
                    "CUDA driver version is insufficient for CUDA runtime version")),
            Map.entry(98, new Entry("cudaErrorInvalidDeviceFunction", "invalid device function")),
            Map.entry(100, new Entry("cudaErrorNoDevice", "no CUDA-capable device is detected")),
            Map.entry(101, new Entry("cudaErrorInvalidDevice", "invalid device ordinal")),
            Map.entry(209, new Entry("cudaErrorNoKernelImageForDevice",
                    "no kernel image is available for execution on the device")),
            Map.entry(222, new Entry("cudaErrorUnsupportedPtxVersion", "the provided PTX was compiled with an "
                    + "unsupported toolchain")),
            Map.entry(400, new Entry("cudaErrorInvalidResourceHandle", "invalid resource handle")),
            Map.entry(600, new Entry("cudaErrorNotReady", "device not ready")),
            Map.entry(700, new Entry("cudaErrorIllegalAddress", "an illegal memory access was encountered")),
            Map.entry(701, new Entry("cudaErrorLaunchOutOfResources", "too many resources requested for launch")),
            Map.entry(702, new Entry("cudaErrorLaunchTimeout", "the launch timed out and was terminated")),
            Map.entry(719, new Entry("cudaErrorLaunchFailure", "unspecified launch failure")),
            Map.entry(999, new Entry("cudaErrorUnknown", "unknown error")));

    public static String name(int status) {
        Entry e = KNOWN.get(status);
        return e == null ? "cudaError " + status : e.name();
    }

    public static String text(int status) {
        Entry e = KNOWN.get(status);
        return e == null ? "no description known to lstm4j" : e.text();
    }

    /** A {@link CudaException} for a runtime status, named from this table (no JavaCPP needed). */
    public static CudaException exception(String library, String call, int status) {
        return new CudaException(library, call, status, name(status), text(status));
    }
}
