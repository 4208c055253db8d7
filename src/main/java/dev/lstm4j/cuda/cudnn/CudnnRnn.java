package dev.lstm4j.cuda.cudnn;

import static org.bytedeco.cuda.global.cudnn.*;

import dev.lstm4j.cuda.CudaCheck;
import dev.lstm4j.cuda.CudaDevice;
import dev.lstm4j.cuda.CudnnHandle;
import dev.lstm4j.cuda.DeviceBuffer;
import dev.lstm4j.cuda.DeviceCopies;
import dev.lstm4j.cuda.DevicePointers;
import dev.lstm4j.cuda.PinnedHostMemory;
import dev.lstm4j.cuda.Stream;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.lang.ref.WeakReference;
import org.bytedeco.cuda.cudnn.cudnnDropoutStruct;
import org.bytedeco.cuda.cudnn.cudnnRNNStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * What one spec needs on the device, whatever the batch: the RNN descriptor, the dropout descriptor and its states,
 * and the weight space (plus its gradient) with the layout cuDNN reported for it.
 */
final class CudnnRnn implements AutoCloseable {
    private static final WeakReference<LstmParams> NONE = new WeakReference<>(null);
    private final LstmSpec spec;
    private final DType dtype;
    private final CudaDevice device;
    private final CudnnHandle handle;
    private final Stream stream;
    private final CudnnAlgorithm algorithm;
    private final cudnnRNNStruct rnnDesc = new cudnnRNNStruct();
    private final cudnnDropoutStruct dropoutDesc = new cudnnDropoutStruct();
    private DeviceBuffer dropoutStates;
    private long dropoutSeed;
    private boolean dropoutSeeded;
    private long weightSpaceBytes;
    private DeviceBuffer weights;
    private DeviceBuffer weightGrads;
    private PinnedHostMemory weightImage;
    /** The frozen parameters whose values the weight space holds, or none ({@link #uploadWeights}). */
    private WeakReference<LstmParams> heldFrozen = NONE;
    private CudnnWeightPlan.Layout layout;
    private boolean rnnCreated;
    private boolean dropoutCreated;
    private boolean closed;

    CudnnRnn(LstmSpec spec, DType dtype, CudaDevice device, CudnnHandle handle, Stream stream, CudnnAlgorithm algorithm) {
        this.spec = spec;
        this.dtype = dtype;
        this.device = device;
        this.handle = handle;
        this.stream = stream;
        this.algorithm = algorithm;
        try {
            CudaCheck.cudnn("cudnnCreateDropoutDescriptor", cudnnCreateDropoutDescriptor(dropoutDesc));
            dropoutCreated = true;
            initDropout(0L);
            CudaCheck.cudnn("cudnnCreateRNNDescriptor", cudnnCreateRNNDescriptor(rnnDesc));
            rnnCreated = true;
            configure();
            try (SizeTPointer size = new SizeTPointer(1)) {
                CudaCheck.cudnn("cudnnGetRNNWeightSpaceSize", cudnnGetRNNWeightSpaceSize(handle.handle(), rnnDesc, size));
                weightSpaceBytes = size.get();
            }
            weights = device.allocator().allocate(weightSpaceBytes, stream);
            weightGrads = device.allocator().allocate(weightSpaceBytes, stream);
            weightImage = PinnedHostMemory.allocate(device, Math.max(1, weightSpaceBytes));
            weightImage.segment().fill((byte) 0);
            layout = CudnnWeightPlan.of(spec).layout(this::locate, weightSpaceBytes, dtype);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    int dataType() {
        return dtype == DType.FLOAT64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    }

    cudnnRNNStruct descriptor() {
        return rnnDesc;
    }

    long weightSpaceBytes() {
        return weightSpaceBytes;
    }

    DeviceBuffer weights() {
        return weights;
    }

    DeviceBuffer weightGrads() {
        return weightGrads;
    }

    CudnnWeightPlan.Layout layout() {
        return layout;
    }

    /** Sets the RNN descriptor (and the cell clip, which setting the descriptor resets). */
    private void configure() {
        // float32: FMA math so that Ampere and newer do not round the GEMMs to TF32 (results would drift ~1e-3).
        int mathType = dtype == DType.FLOAT32 && device.info().computeMajor() >= 8 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
        int projSize = spec.projSize() > 0 ? spec.projSize() : spec.hiddenSize(); // equal to hiddenSize: no projection
        CudaCheck.cudnn("cudnnSetRNNDescriptor_v8(" + spec + ", " + dtype + ", algo " + algorithm.label() + ")",
                cudnnSetRNNDescriptor_v8(rnnDesc, algorithm.cudnnValue(), CUDNN_LSTM, CUDNN_RNN_DOUBLE_BIAS,
                        spec.bidirectional() ? CUDNN_BIDIRECTIONAL : CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT,
                        dataType(), dataType(), mathType, spec.inputSize(), spec.hiddenSize(), projSize,
                        spec.numLayers(), dropoutDesc, CUDNN_RNN_PADDED_IO_ENABLED));
        if (spec.hasCellClip()) {
            CudaCheck.cudnn("cudnnRNNSetClip_v9(MINMAX, " + (-spec.cellClip()) + ", " + spec.cellClip() + ")",
                    cudnnRNNSetClip_v9(rnnDesc, CUDNN_RNN_CLIP_MINMAX, -spec.cellClip(), spec.cellClip()));
        }
    }

    /** Dropout states exist only when dropout can happen (p > 0 between at least two layers). */
    private boolean hasDropout() {
        return spec.dropout() > 0 && spec.numLayers() > 1;
    }

    private void initDropout(long seed) {
        if (!hasDropout()) {
            CudaCheck.cudnn("cudnnSetDropoutDescriptor(no dropout)",
                    cudnnSetDropoutDescriptor(dropoutDesc, handle.handle(), 0f, null, 0, 0));
            return;
        }
        if (dropoutStates == null) {
            try (SizeTPointer size = new SizeTPointer(1)) {
                CudaCheck.cudnn("cudnnDropoutGetStatesSize", cudnnDropoutGetStatesSize(handle.handle(), size));
                dropoutStates = device.allocator().allocate(size.get(), stream);
            }
        }
        CudaCheck.cudnn("cudnnSetDropoutDescriptor(p=" + spec.dropout() + ", seed=" + seed + ")",
                cudnnSetDropoutDescriptor(dropoutDesc, handle.handle(), (float) spec.dropout(),
                        DevicePointers.of(dropoutStates), dropoutStates.byteSize(), seed));
        dropoutSeed = seed;
        dropoutSeeded = true;
    }

    /**
     * Before a training call: re-seeds cuDNN's dropout generator when the call asks for another seed than the last
     * one. With an unchanged seed the generator runs on, so consecutive calls draw fresh masks.
     */
    void prepareDropout(long seed) {
        if (hasDropout() && (!dropoutSeeded || seed != dropoutSeed)) {
            initDropout(seed);
            configure();
        }
    }

    /**
     * Copies {@code params} into the weight space, unless they are the frozen parameters it already holds: frozen
     * values never change ({@link LstmParams#freeze}), so a service's calls on them upload nothing after the first.
     */
    void uploadWeights(LstmParams params) {
        if (params.isFrozen() && heldFrozen.get() == params) {
            return;
        }
        heldFrozen = NONE; // until the copy below is done, the space holds no parameters whole
        layout.pack(params, weightImage.segment().asSlice(0, weightSpaceBytes));
        DeviceCopies.toDevice(weightImage.segment().asSlice(0, weightSpaceBytes), weights, 0, stream);
        if (params.isFrozen()) {
            heldFrozen = new WeakReference<>(params);
        }
    }

    /** Zeroes the weight-gradient space (cuDNN only accumulates into it). */
    void zeroWeightGrads() {
        DeviceCopies.zero(weightGrads, stream);
    }

    /** Downloads the weight gradients into {@code grads}; synchronises the stream. */
    void downloadWeightGrads(LstmParams grads) {
        DeviceCopies.toHost(weightGrads, 0, weightImage.segment().asSlice(0, weightSpaceBytes), stream);
        stream.synchronize();
        layout.unpack(weightImage.segment().asSlice(0, weightSpaceBytes), grads);
    }

    /** Asks cuDNN where one block of the weight space lives (cudnnGetRNNWeightParams). */
    private CudnnWeightPlan.Location locate(int pseudoLayer, int linLayerId, CudnnWeightPlan.Part part) {
        cudnnTensorStruct mDesc = new cudnnTensorStruct();
        cudnnTensorStruct bDesc = new cudnnTensorStruct();
        CudaCheck.cudnn("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(mDesc));
        try {
            CudaCheck.cudnn("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(bDesc));
            try {
                Pointer mAddr = new Pointer();
                Pointer bAddr = new Pointer();
                String call = "cudnnGetRNNWeightParams(pseudoLayer " + pseudoLayer + ", linLayerID " + linLayerId + ")";
                CudaCheck.cudnn(call, cudnnGetRNNWeightParams(handle.handle(), rnnDesc, pseudoLayer, weightSpaceBytes,
                        DevicePointers.of(weights), linLayerId, mDesc, mAddr, bDesc, bAddr));
                boolean matrix = part == CudnnWeightPlan.Part.MATRIX;
                long address = matrix ? mAddr.address() : bAddr.address();
                if (address == 0) {
                    throw new IllegalStateException("cuDNN weight space: " + call + " reports no "
                            + part.name().toLowerCase() + " for " + spec);
                }
                return new CudnnWeightPlan.Location(address - weights.address(), elements(matrix ? mDesc : bDesc, call));
            } finally {
                cudnnDestroyTensorDescriptor(bDesc);
            }
        } finally {
            cudnnDestroyTensorDescriptor(mDesc);
        }
    }

    private static long elements(cudnnTensorStruct desc, String call) {
        int[] type = new int[1];
        int[] nbDims = new int[1];
        int[] dims = new int[8];
        int[] strides = new int[8];
        CudaCheck.cudnn("cudnnGetTensorNdDescriptor (after " + call + ")",
                cudnnGetTensorNdDescriptor(desc, 8, type, nbDims, dims, strides));
        long n = 1;
        for (int i = 0; i < nbDims[0]; i++) {
            n *= dims[i];
        }
        return n;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (rnnCreated) cudnnDestroyRNNDescriptor(rnnDesc);
        if (dropoutCreated) cudnnDestroyDropoutDescriptor(dropoutDesc);
        if (dropoutStates != null) dropoutStates.close();
        if (weights != null) weights.close();
        if (weightGrads != null) weightGrads.close();
        if (weightImage != null) weightImage.close();
    }
}
