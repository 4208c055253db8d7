package dev.lstm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A dense row-major tensor. Host tensors keep their elements in a {@link MemorySegment} allocated from an
 * {@link Arena} that the caller owns: closing the arena frees the tensor, every access is checked against the shape,
 * and one after the arena closed (or on a thread a confined arena does not own) fails naming the tensor. Device
 * tensors hold a {@link DeviceMemory} and are read through copies made by the CUDA runtime.
 */
public final class Tensor {
    private final Shape shape;
    private final DType dtype;
    private final MemorySegment segment; // host storage, null on a device
    private final DeviceMemory deviceMemory; // device storage, null on the host
    private final long elementCount;

    private Tensor(Shape shape, DType dtype, MemorySegment segment, DeviceMemory deviceMemory) {
        this.shape = shape;
        this.dtype = dtype;
        this.segment = segment;
        this.deviceMemory = deviceMemory;
        this.elementCount = shape.elementCount();
    }

    /** A zero-filled host tensor whose memory belongs to {@code arena}. */
    public static Tensor zeros(Arena arena, DType dtype, Shape shape) {
        Objects.requireNonNull(arena, "arena");
        long bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        MemorySegment seg = arena.allocate(bytes, dtype.byteSize());
        return new Tensor(shape, dtype, seg, null); // Arena.allocate zero-fills
    }

    public static Tensor zeros(Arena arena, DType dtype, long... dims) {
        return zeros(arena, dtype, Shape.of(dims));
    }

    /** A host tensor of {@code dtype} holding {@code values} (rounded to float32 when dtype is FLOAT32). */
    public static Tensor of(Arena arena, DType dtype, Shape shape, double[] values) {
        Tensor t = zeros(arena, dtype, shape);
        t.copyFrom(values);
        return t;
    }

    public static Tensor of(Arena arena, Shape shape, float[] values) {
        Tensor t = zeros(arena, DType.FLOAT32, shape);
        t.copyFrom(values);
        return t;
    }

    /** Wraps an existing host segment; its byte size must match the shape exactly. */
    public static Tensor wrap(MemorySegment segment, DType dtype, Shape shape) {
        long expected = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        if (segment.byteSize() != expected) {
            throw new IllegalArgumentException("segment: expected " + expected + " bytes for " + dtype + " " + shape
                    + ", got " + segment.byteSize());
        }
        return new Tensor(shape, dtype, segment, null);
    }

    /** A tensor on a device; its memory must be large enough for the shape. */
    public static Tensor onDevice(DeviceMemory memory, DType dtype, Shape shape) {
        long expected = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        if (memory.byteSize() < expected) {
            throw new IllegalArgumentException("device memory: expected at least " + expected + " bytes for " + dtype
                    + " " + shape + ", got " + memory.byteSize());
        }
        return new Tensor(shape, dtype, null, memory);
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return deviceMemory == null ? Device.HOST : deviceMemory.device();
    }

    public long elementCount() {
        return elementCount;
    }

    public long byteSize() {
        return elementCount * dtype.byteSize();
    }

    /** The host storage. */
    public MemorySegment segment() {
        requireHost();
        return segment;
    }

    /**
     * Whether every thread may access this host tensor's memory: not so for a confined arena's, which only its owner
     * thread may touch (so work split over threads must copy it, or leave it to the owner).
     */
    public boolean isAccessibleByAnyThread() {
        return segment().isAccessibleBy(UNSTARTED_THREAD);
    }

    /** A thread never started: only memory that every thread may access is accessible by it. */
    private static final Thread UNSTARTED_THREAD = new Thread(() -> { });

    /** The device storage. */
    public DeviceMemory deviceMemory() {
        if (deviceMemory == null) {
            throw new IllegalStateException("tensor: expected a device tensor, got one on the host");
        }
        return deviceMemory;
    }

    private void requireHost() {
        if (segment == null) {
            throw new IllegalStateException("tensor: expected a host tensor, got one on " + device()
                    + " (copy it to the host first)");
        }
    }

    /** Element at a flat row-major position, widened to double. */
    public double getFlat(long flat) {
        requireHost();
        requireFlat(flat);
        try {
            return dtype == DType.FLOAT64
                    ? segment.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, flat)
                    : segment.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, flat);
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    public void setFlat(long flat, double value) {
        requireHost();
        requireFlat(flat);
        try {
            if (dtype == DType.FLOAT64) {
                segment.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, flat, value);
            } else {
                segment.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, flat, (float) value);
            }
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    private void requireFlat(long flat) {
        if (flat < 0 || flat >= elementCount) {
            throw new IndexOutOfBoundsException("flat: expected 0.." + (elementCount - 1) + " for shape " + shape
                    + ", got " + flat);
        }
    }

    /**
     * What the FFM API threw on an access to this tensor's memory ("Already closed", "Attempted access outside
     * owning thread"), said of the tensor; the check runs only once an access has failed.
     */
    private RuntimeException inaccessible(RuntimeException cause) {
        if (!segment.scope().isAlive()) {
            return new IllegalStateException("tensor " + shape + " " + dtype + ": expected memory whose arena is "
                    + "open, got memory whose arena is closed (read results before closing the output, gradients or "
                    + "arena they belong to)", cause);
        }
        if (!segment.isAccessibleBy(Thread.currentThread())) {
            return new WrongThreadException("tensor " + shape + " " + dtype + ": expected a tensor the calling "
                    + "thread may access, got one confined to another thread (its arena is confined)", cause);
        }
        return cause;
    }

    public double get(long... index) {
        return getFlat(shape.flatIndex(index));
    }

    public void set(double value, long... index) {
        setFlat(shape.flatIndex(index), value);
    }

    /** A view of entry {@code i} along the first dimension, sharing memory with this tensor. */
    public Tensor slice(long i) {
        requireHost();
        if (shape.rank() == 0 || i < 0 || i >= shape.dim(0)) {
            throw new IndexOutOfBoundsException("slice: index " + i + " out of range for shape " + shape);
        }
        Shape inner = shape.dropFirst();
        long bytes = inner.elementCount() * dtype.byteSize();
        return new Tensor(inner, dtype, segment.asSlice(i * bytes, bytes), null);
    }

    /** A view with another shape of the same element count, sharing memory. */
    public Tensor reshape(Shape newShape) {
        if (newShape.elementCount() != shape.elementCount()) {
            throw new IllegalArgumentException("reshape: expected a shape of " + shape.elementCount()
                    + " elements (from " + shape + "), got " + newShape);
        }
        return new Tensor(newShape, dtype, segment, deviceMemory);
    }

    public double[] toDoubleArray() {
        requireHost();
        if (dtype == DType.FLOAT64) {
            return doubles();
        }
        float[] f = floats();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    public float[] toFloatArray() {
        requireHost();
        if (dtype == DType.FLOAT32) {
            return floats();
        }
        double[] d = doubles();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** The host memory as it is, float64 tensors only. */
    private double[] doubles() {
        try {
            return segment.toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED);
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    /** The host memory as it is, float32 tensors only. */
    private float[] floats() {
        try {
            return segment.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    public void copyFrom(double[] values) {
        requireLength(values.length);
        try {
            if (dtype == DType.FLOAT64) {
                MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_DOUBLE_UNALIGNED, 0, values.length);
            } else {
                for (int i = 0; i < values.length; i++) {
                    segment.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) values[i]);
                }
            }
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    public void copyFrom(float[] values) {
        requireLength(values.length);
        try {
            if (dtype == DType.FLOAT32) {
                MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            } else {
                for (int i = 0; i < values.length; i++) {
                    segment.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, values[i]);
                }
            }
        } catch (IllegalStateException | WrongThreadException e) {
            throw inaccessible(e);
        }
    }

    /** Copies the elements of {@code other} (same shape, any dtype) into this tensor. */
    public void copyFrom(Tensor other) {
        if (!other.shape.equals(shape)) {
            throw new IllegalArgumentException("copyFrom: expected shape " + shape + ", got " + other.shape);
        }
        requireHost();
        if (other.dtype != dtype) {
            copyFrom(other.toDoubleArray());
            return;
        }
        MemorySegment source = other.segment();
        try {
            MemorySegment.copy(source, 0, segment, 0, byteSize());
        } catch (IllegalStateException | WrongThreadException e) {
            RuntimeException said = other.inaccessible(e);
            throw said != e ? said : inaccessible(e);
        }
    }

    private void requireLength(int length) {
        requireHost();
        if (length != shape.elementCount()) {
            throw new IllegalArgumentException("values: expected " + shape.elementCount() + " elements for shape "
                    + shape + ", got " + length);
        }
    }

    /** A host copy in {@code arena}, converted to {@code target} dtype. */
    public Tensor to(DType target, Arena arena) {
        Tensor t = zeros(arena, target, shape);
        t.copyFrom(this);
        return t;
    }

    public Tensor copy(Arena arena) {
        return to(dtype, arena);
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype + " on " + device();
    }
}
