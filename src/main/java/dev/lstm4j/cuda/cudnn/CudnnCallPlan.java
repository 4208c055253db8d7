package dev.lstm4j.cuda.cudnn;

import static org.bytedeco.cuda.global.cudnn.*;

import dev.lstm4j.cuda.CudaCheck;
import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.CudnnHandle;
import dev.lstm4j.cuda.DeviceBuffer;
import dev.lstm4j.cuda.DeviceCopies;
import dev.lstm4j.cuda.Stream;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.cuda.cudnn.cudnnRNNDataStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The descriptors and buffers of calls with one (batch, max length): RNN data descriptors for x and y (padded,
 * unpacked, time- or batch-major), tensor descriptors for h and c, the per-sequence lengths on the device, and the
 * workspace. The lengths are part of the data descriptors, so {@link #describe(int[])} sets them again for every
 * call; the workspace only grows. Cached by {@link CudnnLstmBackend}, closed when evicted.
 */
final class CudnnCallPlan implements AutoCloseable {
    final int batch;
    final int seqLength;
    private final LstmSpec spec;
    private final CudnnRnn rnn;
    private final CudnnHandle handle;
    private final Stream stream;
    private final CudaDevice device;
    final cudnnRNNDataStruct xDesc = new cudnnRNNDataStruct();
    final cudnnRNNDataStruct yDesc = new cudnnRNNDataStruct();
    final cudnnTensorStruct hDesc = new cudnnTensorStruct();
    final cudnnTensorStruct cDesc = new cudnnTensorStruct();
    private final Pointer paddingFill;  // host scalar 0 of the data type: outputs past a length are zero
    private final Arena hostArena = Arena.ofShared();
    private final MemorySegment hostLengths;
    private DeviceBuffer deviceLengths; // [B] int32, read by cuDNN's kernels
    private DeviceBuffer workspace;
    private long workspaceBytes;
    private long reserveBytes;
    private int created; // how many of the four descriptors exist, for close()
    private boolean closed;

    CudnnCallPlan(LstmSpec spec, DType dtype, CudnnRnn rnn, CudnnHandle handle, Stream stream, CudaDevice device,
                  CudnnAlgorithm algorithm, int batch, int seqLength) {
        this.spec = spec;
        this.rnn = rnn;
        this.handle = handle;
        this.stream = stream;
        this.device = device;
        this.batch = batch;
        this.seqLength = seqLength;
        this.paddingFill = dtype == DType.FLOAT64 ? new DoublePointer(0.0) : new FloatPointer(0f);
        this.hostLengths = hostArena.allocate(ValueLayout.JAVA_INT, batch);
        try {
            CudaCheck.cudnn("cudnnCreateRNNDataDescriptor(x)", cudnnCreateRNNDataDescriptor(xDesc));
            created++;
            CudaCheck.cudnn("cudnnCreateRNNDataDescriptor(y)", cudnnCreateRNNDataDescriptor(yDesc));
            created++;
            CudaCheck.cudnn("cudnnCreateTensorDescriptor(h)", cudnnCreateTensorDescriptor(hDesc));
            created++;
            CudaCheck.cudnn("cudnnCreateTensorDescriptor(c)", cudnnCreateTensorDescriptor(cDesc));
            created++;
            int states = spec.numLayers() * spec.numDirections();
            stateDescriptor(hDesc, "h", states, spec.outputSize(), rnn.dataType());
            stateDescriptor(cDesc, "c", states, spec.hiddenSize(), rnn.dataType());
            deviceLengths = device.allocator().allocate(4L * batch, stream);
            if (algorithm == CudnnAlgorithm.PERSIST_DYNAMIC) {
                CudaCheck.cudnn("cudnnBuildRNNDynamic(batch " + batch + ")",
                        cudnnBuildRNNDynamic(handle.handle(), rnn.descriptor(), batch));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** [D*L, B, width], fully packed. */
    private void stateDescriptor(cudnnTensorStruct desc, String name, int states, int width, int dataType) {
        int[] dims = {states, batch, width};
        int[] strides = {batch * width, width, 1};
        CudaCheck.cudnn("cudnnSetTensorNdDescriptor(" + name + ", [" + states + ", " + batch + ", " + width + "])",
                cudnnSetTensorNdDescriptor(desc, dataType, 3, dims, strides));
    }

    /**
     * Sets x and y for this call's lengths (host array, as cudnnSetRNNDataDescriptor wants), queues their device
     * copy (cudnnRNNForward/Backward read devSeqLengths from the device), and sizes the workspace and reserve.
     */
    void describe(int[] lengths) {
        int layout = spec.batchFirst() ? CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED
                : CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED;
        int width = spec.numDirections() * spec.outputSize();
        CudaCheck.cudnn("cudnnSetRNNDataDescriptor(x, T=" + seqLength + ", B=" + batch + ", I=" + spec.inputSize() + ")",
                cudnnSetRNNDataDescriptor(xDesc, rnn.dataType(), layout, seqLength, batch, spec.inputSize(), lengths,
                        paddingFill));
        CudaCheck.cudnn("cudnnSetRNNDataDescriptor(y, T=" + seqLength + ", B=" + batch + ", width=" + width + ")",
                cudnnSetRNNDataDescriptor(yDesc, rnn.dataType(), layout, seqLength, batch, width, lengths, paddingFill));
        MemorySegment.copy(lengths, 0, hostLengths, ValueLayout.JAVA_INT, 0, batch);
        DeviceCopies.toDevice(hostLengths, deviceLengths, 0, stream);
        try (SizeTPointer work = new SizeTPointer(1); SizeTPointer reserve = new SizeTPointer(1)) {
            CudaCheck.cudnn("cudnnGetRNNTempSpaceSizes(inference)", cudnnGetRNNTempSpaceSizes(handle.handle(),
                    rnn.descriptor(), CUDNN_FWD_MODE_INFERENCE, xDesc, work, reserve));
            long need = work.get();
            CudaCheck.cudnn("cudnnGetRNNTempSpaceSizes(training)", cudnnGetRNNTempSpaceSizes(handle.handle(),
                    rnn.descriptor(), CUDNN_FWD_MODE_TRAINING, xDesc, work, reserve));
            need = Math.max(need, work.get()); // one workspace serves both modes and the backward calls
            reserveBytes = reserve.get();
            if (workspace == null || workspace.byteSize() < need) {
                if (workspace != null) workspace.close();
                workspace = device.allocator().allocate(Math.max(need, 1), stream);
            }
            workspaceBytes = need;
        }
    }

    DeviceBuffer deviceLengths() { return deviceLengths; }
    DeviceBuffer workspace() { return workspace; }
    long workspaceBytes() { return workspaceBytes; }
    /** Reserve space a training call needs (the saved forward state owns it). */
    long reserveBytes() { return reserveBytes; }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (created > 0) cudnnDestroyRNNDataDescriptor(xDesc);
        if (created > 1) cudnnDestroyRNNDataDescriptor(yDesc);
        if (created > 2) cudnnDestroyTensorDescriptor(hDesc);
        if (created > 3) cudnnDestroyTensorDescriptor(cDesc);
        if (deviceLengths != null) deviceLengths.close();
        if (workspace != null) workspace.close();
        paddingFill.close();
        hostArena.close();
    }
}
