package dev.lstm4j.train;

import dev.lstm4j.nn.Param;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Named per-parameter buffers (zero-initialised, the parameter's shape and dtype) that an optimizer owns. */
final class OptimizerState implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final List<String> suffixes;

    OptimizerState(List<String> suffixes) {
        this.suffixes = suffixes;
    }

    Tensor buffer(Param p, String suffix) {
        return buffers.computeIfAbsent(p.name() + "." + suffix, k -> Tensor.zeros(arena, p.value().dtype(), p.value().shape()));
    }

    Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(buffers);
    }

    void load(Map<String, Tensor> state, List<Param> params) {
        for (Param p : params) {
            for (String s : suffixes) {
                String key = p.name() + "." + s;
                Tensor src = state.get(key);
                if (src == null) {
                    throw new IllegalArgumentException("optimizer state: expected tensor '" + key + "', got keys "
                            + state.keySet());
                }
                buffer(p, s).copyFrom(src);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
