package dev.lstm4j.io;

import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * What {@link SafeTensors#read} returns: the tensors in header order, the header's {@code __metadata__}, and the dtype
 * each tensor had in the file (F16 and BF16 tensors are widened to float32 on reading). Owns the tensors' memory.
 */
public final class SafeTensorsFile implements AutoCloseable {
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final Map<String, String> fileDTypes;

    SafeTensorsFile(Arena arena, Map<String, Tensor> tensors, Map<String, String> metadata,
                    Map<String, String> fileDTypes) {
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.fileDTypes = Collections.unmodifiableMap(fileDTypes);
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("tensor name: expected one of " + tensors.keySet() + ", got '" + name + "'");
        }
        return t;
    }

    /** The header's {@code __metadata__} (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The dtype the file stored a tensor in: F32, F64, F16 or BF16. */
    public String fileDType(String name) {
        get(name);
        return fileDTypes.get(name);
    }

    /** Idempotent; the tensors must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
