package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Where a forward or backward call's result tensors live: in an arena of the call's own, shared and closed with its
 * {@link LstmOutput} or {@link LstmGradients}, or in an arena the caller passed in and closes itself.
 *
 * <p>Closing a shared arena costs a handshake with every thread of the JVM (about 60 us on a 2-core VM, a fixed cost
 * whatever the size); a confined arena closes in well under a microsecond but only its owner thread may read what it
 * holds. A backend's worker threads write results through {@link #writableByAnyThread}: for a confined arena, a
 * bounds-checked segment of the same memory in the global scope, whose lifetime the backend keeps to the call (the
 * arena's owner is inside the call then and cannot close it; the workers are done with it before the call returns).
 */
public final class ResultArena implements AutoCloseable {
    private final Arena arena;
    private final boolean owned;

    private ResultArena(Arena arena, boolean owned) {
        this.arena = arena;
        this.owned = owned;
    }

    /** A shared arena of the call's own: results readable by any thread, freed when the result closes. */
    public static ResultArena own() {
        return new ResultArena(Arena.ofShared(), true);
    }

    /** The caller's arena: results live until the caller closes it; closing the result leaves them alone. */
    public static ResultArena in(Arena results) {
        Objects.requireNonNull(results, "results");
        if (!results.scope().isAlive()) {
            throw new IllegalArgumentException("results: expected an open arena, got one already closed");
        }
        return new ResultArena(results, false);
    }

    /** A zero-filled tensor in this arena. */
    public Tensor zeros(DType dtype, Shape shape) {
        try {
            return Tensor.zeros(arena, dtype, shape);
        } catch (WrongThreadException e) {
            throw confinedElsewhere(e);
        }
    }

    /**
     * A tensor in this arena whose contents are undefined until written, for a result that the backend writes whole,
     * every element (see {@link UninitializedMemory}: not zero-filled, so not paid for twice).
     */
    public Tensor uninitialized(DType dtype, Shape shape) {
        long bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        try {
            return Tensor.wrap(UninitializedMemory.allocate(bytes, arena), dtype, shape);
        } catch (WrongThreadException e) {
            throw confinedElsewhere(e);
        }
    }

    private static IllegalArgumentException confinedElsewhere(WrongThreadException e) {
        return new IllegalArgumentException("results: expected an arena the calling thread may allocate from, "
                + "got one confined to another thread", e);
    }

    /**
     * For backends: {@code result} (a tensor of this arena) as the call's worker threads may write it. The same
     * memory; where the arena is confined, a view outside its scope, to be used only until the call returns.
     */
    public Tensor writableByAnyThread(Tensor result) {
        if (result.isAccessibleByAnyThread()) {
            return result;
        }
        return Tensor.wrap(viewForTheCall(result.segment()), result.dtype(), result.shape());
    }

    /**
     * For backends: the same memory as {@code segment} (native, confined to the calling thread) in the global scope,
     * bounds-checked, for the call's worker threads. Valid only while the call runs: its owner is inside the call and
     * cannot close it meanwhile, but nothing stops it after the call returns.
     */
    public static MemorySegment viewForTheCall(MemorySegment segment) {
        return MemorySegment.ofAddress(segment.address()).reinterpret(segment.byteSize());
    }

    /** Closes the arena if it is the call's own. */
    @Override
    public void close() {
        if (owned && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
