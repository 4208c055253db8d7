package dev.lstm4j.cuda.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The host implementation of {@link DeviceOps}: "device" memory is native host memory, the kernels are the g++ build
 * ({@link KernelLibrary#HOST}) and the GEMM is plain Java (float accumulation, as cuBLAS's SGEMM). Everything runs
 * synchronously on the calling thread. Its job is to run the real orchestration and the real kernel sources where
 * there is no GPU, not to be fast.
 */
public final class HostDeviceOps implements DeviceOps {
    private final NativeKernels kernels;

    public HostDeviceOps() {
        this.kernels = NativeKernels.bind(KernelLibrary.HOST);
    }

    @Override
    public String name() {
        return "host (g++ build of the kernels)";
    }

    @Override
    public NativeKernels kernels() {
        return kernels;
    }

    @Override
    public Workspace workspace() {
        return new HostWorkspace();
    }

    @Override
    public void upload(MemorySegment src, DevicePtr dst, long bytes) {
        MemorySegment.copy(src, 0, dst.hostSegment(), 0, bytes);
    }

    @Override
    public void download(DevicePtr src, MemorySegment dst, long bytes) {
        MemorySegment.copy(src.hostSegment(), 0, dst, 0, bytes);
    }

    @Override
    public void copy(DevicePtr src, DevicePtr dst, long bytes) {
        MemorySegment.copy(src.hostSegment(), 0, dst.hostSegment(), 0, bytes);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DevicePtr a, int lda,
                     DevicePtr b, int ldb, float beta, DevicePtr c, int ldc) {
        DeviceOps.checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        MemorySegment as = a.hostSegment();
        MemorySegment bs = b.hostSegment();
        MemorySegment cs = c.hostSegment();
        // op(B) as a dense [k, n] array so that the inner loop runs over contiguous memory.
        float[] opB = new float[k * n];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                long at = transB ? (long) j * ldb + p : (long) p * ldb + j;
                opB[p * n + j] = bs.getAtIndex(JAVA_FLOAT, at);
            }
        }
        float[] row = new float[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0f);
            for (int p = 0; p < k; p++) {
                long at = transA ? (long) p * lda + i : (long) i * lda + p;
                float av = as.getAtIndex(JAVA_FLOAT, at);
                int base = p * n;
                for (int j = 0; j < n; j++) {
                    row[j] += av * opB[base + j];
                }
            }
            for (int j = 0; j < n; j++) {
                long at = (long) i * ldc + j;
                float prior = beta == 0f ? 0f : beta * cs.getAtIndex(JAVA_FLOAT, at);
                cs.setAtIndex(JAVA_FLOAT, at, alpha * row[j] + prior);
            }
        }
    }

    @Override
    public void synchronize() {
        // Every operation has finished when it returns.
    }

    @Override
    public void close() {
        // Holds nothing: the library stays loaded for the JVM's life, memory belongs to workspaces.
    }

    private static final class HostWorkspace implements Workspace {
        private final Arena arena = Arena.ofShared();

        @Override
        public DevicePtr floats(long count) {
            MemorySegment seg = arena.allocate(Math.multiplyExact(Math.max(count, 1L), (long) Float.BYTES), 64);
            return new DevicePtr(seg.address(), count * Float.BYTES, seg.asSlice(0, count * Float.BYTES));
        }

        @Override
        public DevicePtr ints(int[] values) {
            MemorySegment seg = arena.allocate(Math.max(values.length, 1) * (long) Integer.BYTES, 64);
            MemorySegment.copy(values, 0, seg, JAVA_INT, 0, values.length);
            long bytes = values.length * (long) Integer.BYTES;
            return new DevicePtr(seg.address(), bytes, seg.asSlice(0, bytes));
        }

        @Override
        public synchronized void close() {
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }
}
