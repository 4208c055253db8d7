package dev.lstm4j.cuda.kernels;

import dev.lstm4j.cuda.CublasHandle;
import dev.lstm4j.cuda.CudaCheck;
import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.CudaLibraries;
import dev.lstm4j.cuda.DeviceBuffer;
import dev.lstm4j.cuda.DeviceCopies;
import dev.lstm4j.cuda.DevicePointers;
import dev.lstm4j.cuda.Stream;
import dev.lstm4j.tensor.Device;
import dev.lstm4j.tensor.DeviceMemory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The GPU implementation of {@link DeviceOps}: memory from the device's caching allocator, copies and cuBLAS SGEMM
 * through the CUDA runtime of {@code dev.lstm4j.cuda}, and the nvcc build of the kernels ({@link KernelLibrary#CUDA}),
 * all on one stream of its own. Create it only when {@link dev.lstm4j.cuda.CudaDriver#gpuPresent()}: this class
 * links JavaCPP's CUDA presets.
 */
public final class CudaDeviceOps implements DeviceOps {
    private final CudaDevice device;
    private final Stream stream;
    private final CublasHandle cublasHandle;
    private final NativeKernels kernels;
    private boolean closed;

    public CudaDeviceOps(int ordinal) {
        this.device = CudaDevice.get(ordinal);
        CudaLibraries.requireCublas();
        NativeKernels bound = NativeKernels.bind(KernelLibrary.CUDA);
        bound.deviceCount(); // fails with the runtime's reason when the nvcc build cannot run on this driver
        device.makeCurrent();
        this.stream = Stream.create(device);
        try {
            this.cublasHandle = CublasHandle.create(device, stream);
        } catch (RuntimeException e) {
            stream.close();
            throw e;
        }
        this.kernels = bound.onStream(stream.address());
    }

    @Override
    public String name() {
        return "cuda:" + device.ordinal() + " (" + device.info() + ")";
    }

    @Override
    public NativeKernels kernels() {
        return kernels;
    }

    @Override
    public Workspace workspace() {
        return new GpuWorkspace();
    }

    @Override
    public void upload(MemorySegment src, DevicePtr dst, long bytes) {
        dst.require("upload destination", bytes, 1);
        device.makeCurrent();
        DeviceCopies.toDevice(src.asSlice(0, bytes), memory(dst), 0, stream);
        stream.synchronize(); // the host segment may be freed as soon as this returns
    }

    @Override
    public void download(DevicePtr src, MemorySegment dst, long bytes) {
        src.require("download source", bytes, 1);
        device.makeCurrent();
        DeviceCopies.toHost(memory(src), 0, dst.asSlice(0, bytes), stream);
        stream.synchronize();
    }

    @Override
    public void copy(DevicePtr src, DevicePtr dst, long bytes) {
        device.makeCurrent();
        DeviceCopies.deviceToDevice(memory(src), 0, memory(dst), 0, bytes, stream);
    }

    /** Row-major C = alpha op(A) op(B) + beta C as cuBLAS's column-major C^T = op(B)^T op(A)^T. */
    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DevicePtr a, int lda,
                     DevicePtr b, int ldb, float beta, DevicePtr c, int ldc) {
        DeviceOps.checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        device.makeCurrent();
        try (FloatPointer alphaP = new FloatPointer(alpha);
             FloatPointer betaP = new FloatPointer(beta);
             FloatPointer aP = new FloatPointer(DevicePointers.of(a.address()));
             FloatPointer bP = new FloatPointer(DevicePointers.of(b.address()));
             FloatPointer cP = new FloatPointer(DevicePointers.of(c.address()))) {
            CudaCheck.cublas("cublasSgemm_v2(" + m + "x" + n + "x" + k + ")",
                    cublas.cublasSgemm_v2(cublasHandle.handle(), transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                            transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, n, m, k, alphaP, bP, ldb, aP, lda,
                            betaP, cP, ldc));
        }
    }

    @Override
    public void synchronize() {
        stream.synchronize();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cublasHandle.close();
        } finally {
            stream.close();
        }
    }

    private DeviceMemory memory(DevicePtr p) {
        Device d = device.device();
        return new DeviceMemory() {
            @Override
            public Device device() {
                return d;
            }

            @Override
            public long address() {
                return p.address();
            }

            @Override
            public long byteSize() {
                return p.byteSize();
            }
        };
    }

    /** Buffers from the caching allocator for this stream, zeroed on the stream; closing gives them back. */
    private final class GpuWorkspace implements Workspace {
        private final List<DeviceBuffer> buffers = new ArrayList<>();
        private boolean closedWs;

        @Override
        public synchronized DevicePtr floats(long count) {
            DeviceBuffer buf = allocate(Math.multiplyExact(count, (long) Float.BYTES));
            DeviceCopies.zero(buf, stream);
            return new DevicePtr(buf.address(), count * Float.BYTES, null);
        }

        @Override
        public synchronized DevicePtr ints(int[] values) {
            long bytes = values.length * (long) Integer.BYTES;
            DeviceBuffer buf = allocate(bytes);
            DevicePtr p = new DevicePtr(buf.address(), bytes, null);
            try (java.lang.foreign.Arena staging = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment host = staging.allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, values);
                upload(host, p, bytes);
            }
            return p;
        }

        private DeviceBuffer allocate(long bytes) {
            if (closedWs) {
                throw new IllegalStateException("workspace: already closed");
            }
            device.makeCurrent();
            DeviceBuffer buf = device.allocator().allocate(Math.max(bytes, 4), stream);
            buffers.add(buf);
            return buf;
        }

        @Override
        public synchronized void close() {
            if (closedWs) {
                return;
            }
            closedWs = true;
            for (DeviceBuffer b : buffers) {
                b.close();
            }
            buffers.clear();
        }
    }
}
