package dev.lstm4j.cuda;

import dev.lstm4j.tensor.Device;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small caching allocator for one device, so a training loop does not call cudaMalloc/cudaFree every step.
 * Sizes are rounded up (512 B granules below 1 MiB, 2 MiB granules above); a released block goes back to a free list
 * of the stream it was allocated for and is handed out again only for that stream, so reuse is ordered by the stream
 * and needs no synchronisation. A request is served from a cached block of at most twice its rounded size. When
 * cudaMalloc runs out of memory, the cache is emptied and the allocation tried once more.
 */
public final class DeviceAllocator {
    static final long SMALL_GRANULE = 512;
    static final long LARGE_GRANULE = 2L << 20;
    static final long LARGE_THRESHOLD = 1L << 20;

    /** The raw allocation calls: cudaMalloc/cudaFree on a device, or a fake in tests. */
    interface Backing {
        long malloc(long bytes);

        void free(long address);

        boolean isOutOfMemory(CudaException e);
    }

    /**
     * @param nativeAllocations cudaMalloc calls so far
     * @param cacheHits         allocations served from the cache
     */
    public record Stats(long bytesInUse, long bytesCached, long buffersInUse, long nativeAllocations,
                        long nativeFrees, long cacheHits) {}

    private final Device device;
    private final Backing backing;
    private final Map<Long, TreeMap<Long, ArrayDeque<Long>>> freeByStream = new HashMap<>(); // stream -> capacity -> addresses
    private long bytesInUse;
    private long bytesCached;
    private long buffersInUse;
    private long nativeAllocations;
    private long nativeFrees;
    private long cacheHits;

    DeviceAllocator(Device device, Backing backing) {
        this.device = device;
        this.backing = backing;
    }

    public Device device() {
        return device;
    }

    /**
     * A buffer of at least {@code bytes} bytes (256-byte aligned, as cudaMalloc guarantees), for work on
     * {@code stream} (null: work ordered by device synchronisation). Close the buffer to give it back.
     */
    public DeviceBuffer allocate(long bytes, Stream stream) {
        return allocate(bytes, stream == null ? 0L : stream.address());
    }

    synchronized DeviceBuffer allocate(long bytes, long streamKey) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: expected >= 0, got " + bytes);
        }
        long capacity = roundUp(bytes);
        TreeMap<Long, ArrayDeque<Long>> free = freeByStream.get(streamKey);
        if (free != null) {
            Map.Entry<Long, ArrayDeque<Long>> e = free.ceilingEntry(capacity);
            if (e != null && e.getKey() < 2 * capacity) {
                long address = e.getValue().pop();
                if (e.getValue().isEmpty()) {
                    free.remove(e.getKey());
                }
                bytesCached -= e.getKey();
                cacheHits++;
                return handOut(address, bytes, e.getKey(), streamKey);
            }
        }
        long address;
        try {
            address = backing.malloc(capacity);
        } catch (CudaException e) {
            if (!backing.isOutOfMemory(e) || bytesCached == 0) {
                throw e;
            }
            emptyCache();
            address = backing.malloc(capacity);
        }
        nativeAllocations++;
        return handOut(address, bytes, capacity, streamKey);
    }

    private DeviceBuffer handOut(long address, long bytes, long capacity, long streamKey) {
        bytesInUse += capacity;
        buffersInUse++;
        return new DeviceBuffer(this, address, bytes, capacity, streamKey);
    }

    /** Called by {@link DeviceBuffer#close()}. */
    synchronized void release(DeviceBuffer buffer) {
        bytesInUse -= buffer.capacity();
        buffersInUse--;
        freeByStream.computeIfAbsent(buffer.streamKey(), k -> new TreeMap<>())
                .computeIfAbsent(buffer.capacity(), k -> new ArrayDeque<>())
                .push(buffer.rawAddress());
        bytesCached += buffer.capacity();
    }

    /** Frees every cached (unused) block with cudaFree; buffers in use are untouched. */
    public synchronized void emptyCache() {
        RuntimeException first = null;
        for (TreeMap<Long, ArrayDeque<Long>> free : freeByStream.values()) {
            for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
                for (long address : e.getValue()) {
                    try {
                        backing.free(address);
                        nativeFrees++;
                    } catch (RuntimeException ex) {
                        if (first == null) first = ex;
                    }
                    bytesCached -= e.getKey();
                }
            }
        }
        freeByStream.clear();
        if (first != null) {
            throw first;
        }
    }

    public synchronized Stats stats() {
        return new Stats(bytesInUse, bytesCached, buffersInUse, nativeAllocations, nativeFrees, cacheHits);
    }

    static long roundUp(long bytes) {
        long g = bytes >= LARGE_THRESHOLD ? LARGE_GRANULE : SMALL_GRANULE;
        return Math.max(g, Math.multiplyExact((bytes + g - 1) / g, g));
    }
}
