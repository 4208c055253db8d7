package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The runtime objects on a real device. Skipped, with the detection reason, where there is no GPU. */
@Tag("gpu")
class CudaRuntimeGpuTest {
    private CudaDevice device;

    @BeforeEach
    void gpu() {
        GpuAssumptions.assumeGpuWithLibraries();
        device = CudaDevice.get(0);
    }

    @Test
    void tensorsRoundTripThroughTheDeviceExactly() {
        try (Arena arena = Arena.ofConfined(); Stream stream = Stream.create(device)) {
            float[] values = {1.5f, -2.25f, 3e-8f, Float.MAX_VALUE, 0f, -0f};
            Tensor host = Tensor.of(arena, Shape.of(2, 3), values);
            Tensor dev = DeviceTensors.upload(host, device, stream);
            Tensor dev2 = DeviceTensors.allocate(device, DType.FLOAT32, Shape.of(2, 3), stream);
            DeviceCopies.deviceToDevice(dev.deviceMemory(), 0, dev2.deviceMemory(), 0, host.byteSize(), stream);
            Tensor back = Tensor.zeros(arena, DType.FLOAT32, 2, 3);
            DeviceTensors.download(dev2, back, stream);
            stream.synchronize();
            assertArrayEquals(values, back.toFloatArray());
            DeviceCopies.zero(dev2.deviceMemory(), stream);
            DeviceTensors.download(dev2, back, stream);
            stream.synchronize();
            assertArrayEquals(new float[6], back.toFloatArray());
            DeviceTensors.release(dev);
            DeviceTensors.release(dev2);
        }
    }

    @Test
    void pinnedMemoryCopiesAndIsUnreachableAfterClose() {
        MemorySegment seg;
        try (Stream stream = Stream.create(device); PinnedHostMemory pinned = PinnedHostMemory.allocate(device, 4096);
             DeviceBuffer buf = device.allocator().allocate(4096, stream)) {
            seg = pinned.segment();
            for (int i = 0; i < 1024; i++) seg.setAtIndex(ValueLayout.JAVA_INT, i, i * 7);
            DeviceCopies.toDevice(seg, buf, 0, stream);
            seg.fill((byte) 0);
            stream.synchronize();
            DeviceCopies.toHost(buf, 0, seg, stream);
            stream.synchronize();
            assertEquals(1023 * 7, seg.getAtIndex(ValueLayout.JAVA_INT, 1023));
        }
        MemorySegment closed = seg;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void eventsTimeWorkOnAStream() {
        try (Stream stream = Stream.create(device); Event start = Event.create(device, true);
             Event end = Event.create(device, true); DeviceBuffer buf = device.allocator().allocate(64L << 20, stream)) {
            start.record(stream);
            DeviceCopies.zero(buf, stream);
            end.record(stream);
            end.synchronize();
            assertTrue(end.isComplete());
            float ms = end.elapsedMillisSince(start);
            assertTrue(ms >= 0 && ms < 10_000, "elapsed " + ms + " ms");
        }
    }

    @Test
    void cublasOnTheDevicesHandleMultipliesMatrices() {
        CublasHandle h = device.cublas();
        Stream stream = h.stream();
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = DeviceTensors.upload(Tensor.of(arena, Shape.of(2, 2), new float[] {1, 2, 3, 4}), device, stream);
            Tensor b = DeviceTensors.upload(Tensor.of(arena, Shape.of(2, 2), new float[] {5, 6, 7, 8}), device, stream);
            Tensor c = DeviceTensors.allocate(device, DType.FLOAT32, Shape.of(2, 2), stream);
            // Row-major C = A B is column-major C^T = B^T A^T: swap the operands.
            device.makeCurrent();
            try (FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
                CudaCheck.cublas("cublasSgemm_v2", cublas.cublasSgemm_v2(h.handle(), cublas.CUBLAS_OP_N,
                        cublas.CUBLAS_OP_N, 2, 2, 2, one, DevicePointers.floats(b.deviceMemory()), 2,
                        DevicePointers.floats(a.deviceMemory()), 2, zero, DevicePointers.floats(c.deviceMemory()), 2));
            }
            Tensor back = Tensor.zeros(arena, DType.FLOAT32, 2, 2);
            DeviceTensors.download(c, back, stream);
            stream.synchronize();
            assertArrayEquals(new float[] {19, 22, 43, 50}, back.toFloatArray());
            DeviceTensors.release(a);
            DeviceTensors.release(b);
            DeviceTensors.release(c);
        }
    }

    @Test
    void repeatedAllocationsDoNotGrowDeviceMemory() {
        try (Stream stream = Stream.create(device)) {
            DeviceAllocator alloc = device.allocator();
            for (int i = 0; i < 3; i++) cycle(alloc, stream);
            stream.synchronize();
            long mallocs = alloc.stats().nativeAllocations();
            long free = device.memoryInfo().freeBytes();
            for (int i = 0; i < 200; i++) cycle(alloc, stream);
            stream.synchronize();
            assertEquals(mallocs, alloc.stats().nativeAllocations(), "warm cache: no new cudaMalloc");
            assertEquals(free, device.memoryInfo().freeBytes(), "device free memory unchanged over 200 cycles");
        }
    }

    private static void cycle(DeviceAllocator alloc, Stream stream) {
        try (DeviceBuffer a = alloc.allocate(3 << 20, stream); DeviceBuffer b = alloc.allocate(1000, stream)) {
            DeviceCopies.zero(a, stream);
            DeviceCopies.zero(b, stream);
        }
    }

    @Test
    void outOfRangeCopiesFailBeforeAnyCudaCall() {
        try (Stream stream = Stream.create(device); DeviceBuffer buf = device.allocator().allocate(16, stream);
             Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(32);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> DeviceCopies.toDevice(big, buf, 0, stream));
            assertEquals("device destination: expected a range inside 16 bytes, got offset 0 + 32 bytes", e.getMessage());
        }
    }

    @Test
    void cudaErrorsCarryCallStatusNameAndText() {
        CudaException e = assertThrows(CudaException.class,
                () -> device.allocator().allocate(Long.MAX_VALUE / 4, (Stream) null));
        assertEquals("cudart", e.library());
        assertTrue(e.call().startsWith("cudaMalloc("), e.call());
        assertEquals("cudaErrorMemoryAllocation", e.statusName());
    }
}
