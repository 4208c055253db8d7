package dev.lstm4j.cuda;

import dev.lstm4j.tensor.Device;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * One CUDA device: its properties, its caching allocator, and a default stream with a cuBLAS handle bound to it.
 * Instances are per ordinal and live as long as the JVM. Obtain one only when {@link CudaDriver#gpuPresent()}.
 */
public final class CudaDevice {
    private static final ConcurrentMap<Integer, CudaDevice> DEVICES = new ConcurrentHashMap<>();

    private final GpuInfo info;
    private final Device device;
    private final DeviceAllocator allocator;
    private volatile Stream defaultStream;
    private volatile CublasHandle cublas;

    private CudaDevice(GpuInfo info) {
        this.info = info;
        this.device = Device.cuda(info.ordinal());
        this.allocator = new DeviceAllocator(device, new CudartBacking(this));
    }

    /** Number of CUDA devices the driver reports (0 without a driver), without loading any CUDA library. */
    public static int count() {
        return CudaDriver.detect().devices().size();
    }

    /** The device with this ordinal; fails with the reason when there is no usable GPU or CUDA runtime. */
    public static CudaDevice get(int ordinal) {
        GpuDetection gpu = CudaDriver.detect();
        if (!gpu.gpuPresent()) {
            throw new IllegalStateException("CUDA device " + ordinal + ": no GPU: " + gpu.reason());
        }
        if (ordinal < 0 || ordinal >= gpu.devices().size()) {
            throw new IllegalArgumentException("device ordinal: expected 0.." + (gpu.devices().size() - 1)
                    + ", got " + ordinal);
        }
        CudaLibraries.requireCudart();
        return DEVICES.computeIfAbsent(ordinal, o -> new CudaDevice(gpu.devices().get(o)));
    }

    public int ordinal() { return info.ordinal(); }
    public GpuInfo info() { return info; }
    /** The tensor package's name for this device. */
    public Device device() { return device; }
    public DeviceAllocator allocator() { return allocator; }

    /** Makes this the calling thread's current device (cudaSetDevice); cheap when it already is. */
    public void makeCurrent() {
        CudaCheck.cudart("cudaSetDevice(" + ordinal() + ")", cudart.cudaSetDevice(ordinal()));
    }

    /** Waits for all work on this device. */
    public void synchronize() {
        makeCurrent();
        CudaCheck.cudart("cudaDeviceSynchronize", cudart.cudaDeviceSynchronize());
    }

    /** Free and total device memory in bytes, as the runtime sees them now. */
    public MemoryInfo memoryInfo() {
        makeCurrent();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaCheck.cudart("cudaMemGetInfo", cudart.cudaMemGetInfo(free, total));
            return new MemoryInfo(free.get(), total.get());
        }
    }

    public record MemoryInfo(long freeBytes, long totalBytes) {}

    /** A non-blocking stream owned by this device object, for callers that do not manage their own. */
    public Stream defaultStream() {
        Stream s = defaultStream;
        if (s == null) {
            synchronized (this) {
                if (defaultStream == null) {
                    defaultStream = Stream.create(this);
                }
                s = defaultStream;
            }
        }
        return s;
    }

    /**
     * The device's shared cuBLAS handle, bound to {@link #defaultStream()}. Not for concurrent use from several
     * threads; a backend that runs on its own stream creates its own with {@link CublasHandle#create}.
     */
    public CublasHandle cublas() {
        CublasHandle h = cublas;
        if (h == null) {
            synchronized (this) {
                if (cublas == null) {
                    cublas = CublasHandle.create(this, defaultStream());
                }
                h = cublas;
            }
        }
        return h;
    }

    @Override
    public String toString() {
        return info.toString();
    }

    /** cudaMalloc / cudaFree on this device, behind the caching allocator. */
    private record CudartBacking(CudaDevice device) implements DeviceAllocator.Backing {
        @Override
        public long malloc(long bytes) {
            device.makeCurrent();
            org.bytedeco.javacpp.Pointer p = new org.bytedeco.javacpp.Pointer();
            CudaCheck.cudart("cudaMalloc(" + bytes + " bytes on cuda:" + device.ordinal() + ")",
                    cudart.cudaMalloc(p, bytes));
            return p.address();
        }

        @Override
        public void free(long address) {
            device.makeCurrent();
            CudaCheck.cudart("cudaFree", cudart.cudaFree(DevicePointers.of(address)));
        }

        @Override
        public boolean isOutOfMemory(CudaException e) {
            return e.status() == cudart.cudaErrorMemoryAllocation;
        }
    }
}
