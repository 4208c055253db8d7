package dev.lstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory (cudaHostAlloc) as a bounds-checked {@link MemorySegment}, for copies that overlap with
 * kernels. Closing frees it (cudaFreeHost) and invalidates the segment: a later access throws instead of touching
 * freed memory. Idempotent.
 */
public final class PinnedHostMemory implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment segment;

    private PinnedHostMemory(Arena arena, MemorySegment segment) {
        this.arena = arena;
        this.segment = segment;
    }

    public static PinnedHostMemory allocate(CudaDevice device, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes: expected > 0, got " + bytes);
        }
        device.makeCurrent();
        Pointer p = new Pointer();
        CudaCheck.cudart("cudaHostAlloc(" + bytes + " bytes)", cudart.cudaHostAlloc(p, bytes, cudart.cudaHostAllocDefault));
        long address = p.address();
        Arena arena = Arena.ofShared();
        MemorySegment seg = MemorySegment.ofAddress(address).reinterpret(bytes, arena,
                s -> CudaCheck.cudart("cudaFreeHost", cudart.cudaFreeHost(DevicePointers.of(address))));
        return new PinnedHostMemory(arena, seg);
    }

    public MemorySegment segment() {
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
