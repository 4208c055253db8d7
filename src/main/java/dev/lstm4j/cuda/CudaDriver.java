package dev.lstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the NVIDIA driver and its devices through FFM downcalls into {@code libcuda.so.1}, without touching any
 * JavaCPP class: JavaCPP's CUDA presets link libcuda and fail with {@link UnsatisfiedLinkError} on a machine without
 * the driver (DESIGN.md, "Toolchain facts"), so nothing in lstm4j loads them before this says a GPU is here.
 *
 * <p>This class must never reference an {@code org.bytedeco} type; {@code CudaNoDriverTest} checks that no JavaCPP
 * class gets loaded when there is no driver.
 */
public final class CudaDriver {
    /** The driver library the presets link against. */
    public static final String LIBRARY = "libcuda.so.1";

    private static final int CUDA_SUCCESS = 0;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    private CudaDriver() {}

    private static final class Holder {
        static final GpuDetection DETECTED = detect(LIBRARY);
    }

    /** What the system driver reports; computed once per JVM. */
    public static GpuDetection detect() {
        return Holder.DETECTED;
    }

    /** True when a driver and at least one CUDA device are present. */
    public static boolean gpuPresent() {
        return detect().gpuPresent();
    }

    /** Detection against a named library (tests point this at fakes); never throws. */
    static GpuDetection detect(String library) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return GpuDetection.none("no NVIDIA driver: " + library + " could not be loaded (" + e.getMessage() + ")");
        }
        try {
            return new Calls(lookup, library).detect();
        } catch (MissingSymbol e) {
            return GpuDetection.none("no usable NVIDIA driver: " + library + " lacks " + e.getMessage());
        } catch (Throwable e) {
            return GpuDetection.none("no usable NVIDIA driver: querying " + library + " failed: " + e);
        }
    }

    private static final class MissingSymbol extends Exception {
        MissingSymbol(String symbol) {
            super("the symbol " + symbol, null, false, false);
        }
    }

    /** The driver calls detection needs, bound to one library. */
    private static final class Calls {
        private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
        private static final java.lang.foreign.AddressLayout ADDRESS = ValueLayout.ADDRESS;

        private final MethodHandle cuInit;
        private final MethodHandle cuDriverGetVersion;
        private final MethodHandle cuDeviceGetCount;
        private final MethodHandle cuDeviceGet;
        private final MethodHandle cuDeviceGetName;
        private final MethodHandle cuDeviceGetAttribute;
        private final MethodHandle cuDeviceTotalMem;
        private final MethodHandle cuGetErrorName;
        private final MethodHandle cuGetErrorString;

        Calls(SymbolLookup lookup, String library) throws MissingSymbol {
            cuInit = bind(lookup, "cuInit", FunctionDescriptor.of(INT, INT));
            cuDriverGetVersion = bind(lookup, "cuDriverGetVersion", FunctionDescriptor.of(INT, ADDRESS));
            cuDeviceGetCount = bind(lookup, "cuDeviceGetCount", FunctionDescriptor.of(INT, ADDRESS));
            cuDeviceGet = bind(lookup, "cuDeviceGet", FunctionDescriptor.of(INT, ADDRESS, INT));
            cuDeviceGetName = bind(lookup, "cuDeviceGetName", FunctionDescriptor.of(INT, ADDRESS, INT, INT));
            cuDeviceGetAttribute = bind(lookup, "cuDeviceGetAttribute", FunctionDescriptor.of(INT, ADDRESS, INT, INT));
            cuDeviceTotalMem = bind(lookup, "cuDeviceTotalMem_v2", FunctionDescriptor.of(INT, ADDRESS, INT));
            cuGetErrorName = bind(lookup, "cuGetErrorName", FunctionDescriptor.of(INT, INT, ADDRESS));
            cuGetErrorString = bind(lookup, "cuGetErrorString", FunctionDescriptor.of(INT, INT, ADDRESS));
        }

        private static MethodHandle bind(SymbolLookup lookup, String name, FunctionDescriptor fd) throws MissingSymbol {
            MemorySegment symbol = lookup.find(name).orElseThrow(() -> new MissingSymbol(name));
            return Linker.nativeLinker().downcallHandle(symbol, fd);
        }

        GpuDetection detect() throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment intOut = arena.allocate(INT);
                int status = (int) cuInit.invokeExact(0);
                if (status != CUDA_SUCCESS) {
                    return new GpuDetection(true, driverVersion(intOut), List.of(),
                            "NVIDIA driver found but unusable: " + describe("cuInit", status));
                }
                int version = driverVersion(intOut);
                check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(intOut));
                int count = intOut.get(INT, 0);
                List<GpuInfo> devices = new ArrayList<>();
                MemorySegment name = arena.allocate(256);
                MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
                for (int i = 0; i < count; i++) {
                    check("cuDeviceGet", (int) cuDeviceGet.invokeExact(intOut, i));
                    int device = intOut.get(INT, 0);
                    check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(name, (int) name.byteSize(), device));
                    String deviceName = name.getString(0);
                    int major = attribute(intOut, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                    int minor = attribute(intOut, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                    check("cuDeviceTotalMem_v2", (int) cuDeviceTotalMem.invokeExact(bytes, device));
                    devices.add(new GpuInfo(i, deviceName, major, minor, bytes.get(ValueLayout.JAVA_LONG, 0)));
                }
                String reason = count == 0
                        ? "NVIDIA driver found (CUDA " + (version / 1000) + "." + (version % 1000) / 10
                                + ") but it reports no CUDA device"
                        : "found " + count + " CUDA device(s)";
                return new GpuDetection(true, version, devices, reason);
            } catch (DriverError e) {
                return new GpuDetection(true, 0, List.of(), "NVIDIA driver found but unusable: " + e.getMessage());
            }
        }

        private int driverVersion(MemorySegment intOut) throws Throwable {
            int status = (int) cuDriverGetVersion.invokeExact(intOut);
            return status == CUDA_SUCCESS ? intOut.get(INT, 0) : 0;
        }

        private int attribute(MemorySegment intOut, int attribute, int device) throws Throwable {
            check("cuDeviceGetAttribute(" + attribute + ")",
                    (int) cuDeviceGetAttribute.invokeExact(intOut, attribute, device));
            return intOut.get(INT, 0);
        }

        private void check(String call, int status) throws Throwable {
            if (status != CUDA_SUCCESS) {
                throw new DriverError(describe(call, status));
            }
        }

        /** "call: CUDA_ERROR_NAME (status N): text", with the driver's own name and text when it has them. */
        private String describe(String call, int status) throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS);
                String name = (int) cuGetErrorName.invokeExact(status, out) == CUDA_SUCCESS
                        ? cString(out) : "CUresult " + status;
                String text = (int) cuGetErrorString.invokeExact(status, out) == CUDA_SUCCESS
                        ? cString(out) : "no description";
                return call + ": " + name + " (status " + status + "): " + text;
            }
        }

        private static String cString(MemorySegment pointerOut) {
            MemorySegment p = pointerOut.get(ADDRESS, 0);
            return p.equals(MemorySegment.NULL) ? "?" : p.reinterpret(4096).getString(0);
        }
    }

    private static final class DriverError extends Exception {
        DriverError(String message) {
            super(message, null, false, false);
        }
    }
}
