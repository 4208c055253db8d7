package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Device;
import dev.lstm4j.tensor.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The caching allocator's bookkeeping, on a fake backing that hands out fake addresses (no GPU needed). */
class DeviceAllocatorTest {

    /** Records mallocs and frees; can pretend to run out of memory beyond a limit. */
    static final class FakeBacking implements DeviceAllocator.Backing {
        long next = 0x7f0000000000L;
        long limit = Long.MAX_VALUE;
        long live;
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();
        final Set<Long> liveAddresses = new HashSet<>();
        final List<Long> mallocSizes = new ArrayList<>();

        @Override
        public long malloc(long bytes) {
            if (live + bytes > limit) {
                throw new CudaException("cudart", "cudaMalloc(" + bytes + " bytes)", 2, "cudaErrorMemoryAllocation",
                        "out of memory");
            }
            long a = next;
            next += bytes + 4096;
            live += bytes;
            liveAddresses.add(a);
            sizes.put(a, bytes);
            mallocSizes.add(bytes);
            return a;
        }

        @Override
        public void free(long address) {
            assertTrue(liveAddresses.remove(address), "double or foreign free of " + address);
            live -= sizes.remove(address);
        }

        @Override
        public boolean isOutOfMemory(CudaException e) {
            return e.status() == 2;
        }
    }

    private final FakeBacking backing = new FakeBacking();
    private final DeviceAllocator alloc = new DeviceAllocator(Device.cuda(0), backing);

    @Test
    void roundsToGranulesAndAligns() {
        assertEquals(512, DeviceAllocator.roundUp(0));
        assertEquals(512, DeviceAllocator.roundUp(1));
        assertEquals(512, DeviceAllocator.roundUp(512));
        assertEquals(1024, DeviceAllocator.roundUp(513));
        assertEquals(2L << 20, DeviceAllocator.roundUp(1L << 20));
        assertEquals(4L << 20, DeviceAllocator.roundUp((2L << 20) + 1));
        try (DeviceBuffer b = alloc.allocate(100, 0L)) {
            assertEquals(100, b.byteSize());
            assertEquals(512, b.capacity());
            assertEquals(25, b.elementCount(DType.FLOAT32));
            assertEquals(0, b.address() % DeviceBuffer.ALIGNMENT);
            assertEquals(Device.cuda(0), b.device());
        }
    }

    @Test
    void aTrainingLoopStopsCallingMallocAfterTheFirstStep() {
        long[] sizes = {4000, 123_456, 3 << 20, 77};
        for (int step = 0; step < 50; step++) {
            List<DeviceBuffer> bufs = new ArrayList<>();
            for (long s : sizes) {
                bufs.add(alloc.allocate(s, 0L));
            }
            bufs.forEach(DeviceBuffer::close);
        }
        DeviceAllocator.Stats st = alloc.stats();
        assertEquals(4, st.nativeAllocations(), "one cudaMalloc per distinct buffer, in the first step only");
        assertEquals(49 * 4, st.cacheHits());
        assertEquals(0, st.bytesInUse());
        assertEquals(0, st.buffersInUse());
        assertEquals(512L * 8 + 121 * 1024 + (4L << 20) + 512, st.bytesCached());
    }

    @Test
    void blocksAreReusedOnlyOnTheirOwnStreamAndOnlyWhenNotTooLarge() {
        DeviceBuffer a = alloc.allocate(10_000, 1L);
        long addr = a.address();
        a.close();
        try (DeviceBuffer other = alloc.allocate(10_000, 2L)) {
            assertNotEquals(addr, other.address(), "a block freed on stream 1 must not go to stream 2");
        }
        try (DeviceBuffer small = alloc.allocate(1000, 1L)) {
            assertNotEquals(addr, small.address(), "a 10 kB block is more than twice a 1 kB request");
        }
        try (DeviceBuffer same = alloc.allocate(9000, 1L)) {
            assertEquals(addr, same.address(), "a 9 kB request on stream 1 reuses the 10 kB block");
        }
    }

    @Test
    void closeIsIdempotentAndTheAddressIsRefusedAfterwards() {
        DeviceBuffer b = alloc.allocate(64, 0L);
        b.close();
        b.close();
        assertEquals(0, alloc.stats().buffersInUse());
        assertEquals(512, alloc.stats().bytesCached(), "closed twice, cached once");
        IllegalStateException e = assertThrows(IllegalStateException.class, b::address);
        assertTrue(e.getMessage().contains("already closed"), e.getMessage());
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        backing.limit = 8L << 20;
        DeviceBuffer big = alloc.allocate(6L << 20, 0L);
        big.close(); // cached, still counted live by the backing
        try (DeviceBuffer other = alloc.allocate(4L << 20, 5L)) { // another stream: cache miss, needs the space
            assertEquals(4L << 20, other.capacity());
        }
        assertEquals(1, alloc.stats().nativeFrees());
    }

    @Test
    void outOfMemoryWithNothingCachedFailsWithTheCudaError() {
        backing.limit = 1L << 20;
        CudaException e = assertThrows(CudaException.class, () -> alloc.allocate(2L << 20, 0L));
        assertEquals("cudart cudaMalloc(2097152 bytes): cudaErrorMemoryAllocation (status 2): out of memory",
                e.getMessage());
        assertEquals("cudaErrorMemoryAllocation", e.statusName());
    }

    @Test
    void emptyCacheFreesEveryCachedBlockButNotLiveOnes() {
        DeviceBuffer live = alloc.allocate(1000, 0L);
        alloc.allocate(2000, 0L).close();
        alloc.allocate(5000, 3L).close();
        alloc.emptyCache();
        assertEquals(Set.of(live.address()), backing.liveAddresses);
        assertEquals(0, alloc.stats().bytesCached());
        live.close();
    }

    @Test
    void tensorViewChecksTheSize() {
        try (DeviceBuffer b = alloc.allocate(24, 0L)) {
            assertEquals(Shape.of(2, 3), b.tensor(DType.FLOAT32, Shape.of(2, 3)).shape());
            assertThrows(IllegalArgumentException.class, () -> b.tensor(DType.FLOAT64, Shape.of(2, 3)));
        }
    }

    @Test
    void negativeSizeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> alloc.allocate(-1, 0L));
        assertEquals("bytes: expected >= 0, got -1", e.getMessage());
    }
}
