package dev.lstm4j.cpu;

import dev.lstm4j.lstm.LstmParams;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The packed weights ({@link PackedGemm}) of frozen parameters ({@link LstmParams#freeze}): packed once per
 * (parameters, layer, direction, layout) and shared, read-only, by every later call, where parameters that are not
 * frozen are packed again into the call's workspace on every call. Packing costs about 0.3 ms per 2600 x 650 W_hh
 * on one core with the weights in cache, 1.2 ms when they come from memory (Zen 4; 1.35 ms in cache before the
 * packing moved blocks of 8 x 8, when frozen parameters measured, JMH, 2 threads: ptb-medium inference 56.5 -> 54.7
 * ms, the same layers on one row 9.14 -> 8.06 ms). Entries go with their parameters (weak keys: LstmParams
 * compares by identity).
 */
final class FrozenPacks {
    private final Map<LstmParams, Map<String, float[]>> packs = new WeakHashMap<>();
    private int packed;

    /**
     * The packed array for {@code layout} of frozen {@code params}: the one packed before, or a new one of
     * {@code floats} filled by {@code pack} (which may run on other threads; it is done when it returns). The lock
     * is not held while packing, since the packing may wait for worker threads that a concurrent call's pipeline
     * stages hold while they wait here; two calls that race may both pack, and the first one's array is kept.
     */
    float[] get(LstmParams params, String layout, int floats, Consumer<float[]> pack) {
        if (!params.isFrozen()) {
            throw new IllegalArgumentException("params: expected frozen parameters, got parameters that may change");
        }
        synchronized (this) {
            float[] p = packs.getOrDefault(params, Map.of()).get(layout);
            if (p != null) return p;
        }
        float[] fresh = new float[floats];
        pack.accept(fresh);
        synchronized (this) {
            Map<String, float[]> byLayout = packs.computeIfAbsent(params, k -> new HashMap<>());
            float[] p = byLayout.putIfAbsent(layout, fresh);
            if (p != null) return p;
            packed++;
            return fresh;
        }
    }

    /**
     * The packed array for {@code layout} of params: for frozen params the shared one ({@link #get}); otherwise
     * the caller's own array ({@code own}, the workspace's), packed now.
     */
    float[] packed(LstmParams params, String layout, int floats, Supplier<float[]> own, Consumer<float[]> pack) {
        if (params.isFrozen()) {
            return get(params, layout, floats, pack);
        }
        float[] array = own.get();
        pack.accept(array);
        return array;
    }

    /**
     * Points dir at the packed weights of one layer and direction in {@code layout} ("fused", "plain", ...), as
     * {@link #packed} gives them.
     */
    void packInto(FastCpuWorkspace.Dir dir, LstmParams params, String layout, int layer, int direction, int floats,
                  Consumer<float[]> pack) {
        dir.whhPacked = packed(params, layout + " layer " + layer + " direction " + direction, floats, dir::ownPacked,
                pack);
    }

    /** How many arrays were packed so far (for tests). */
    synchronized int packedCount() {
        return packed;
    }

    /** The layouts packed so far, over all parameters ("fused layer 0 direction 1", ...; for tests). */
    synchronized List<String> packedLayouts() {
        return packs.values().stream().flatMap(m -> m.keySet().stream()).sorted().toList();
    }
}
