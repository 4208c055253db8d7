package dev.lstm4j.io;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An {@link LstmSpec} as JSON and back, exactly (every field, activations with their alpha and beta):
 * <pre>{"version":1,"input_size":16,"hidden_size":32,"num_layers":2,"proj_size":0,"bidirectional":false,
 * "peepholes":true,"input_forget":false,"activations":["Sigmoid","Tanh","Tanh"],"clip":null,"cell_clip":null,
 * "dropout":0.0,"batch_first":false}</pre>
 * {@code null} clip values mean off. Unknown fields and a newer version are refused rather than ignored, so a
 * checkpoint never silently loses a setting.
 */
public final class LstmSpecJson {
    public static final int VERSION = 1;
    private static final Set<String> FIELDS = Set.of("version", "input_size", "hidden_size", "num_layers", "proj_size",
            "bidirectional", "peepholes", "input_forget", "activations", "clip", "cell_clip", "dropout", "batch_first");

    private LstmSpecJson() {}

    public static String toJson(LstmSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", (long) VERSION);
        m.put("input_size", (long) spec.inputSize());
        m.put("hidden_size", (long) spec.hiddenSize());
        m.put("num_layers", (long) spec.numLayers());
        m.put("proj_size", (long) spec.projSize());
        m.put("bidirectional", spec.bidirectional());
        m.put("peepholes", spec.peepholes());
        m.put("input_forget", spec.inputForget());
        m.put("activations", List.of(spec.gateActivation().toString(), spec.cellActivation().toString(),
                spec.hiddenActivation().toString()));
        m.put("clip", spec.hasClip() ? (Object) spec.clip() : Json.NULL);
        m.put("cell_clip", spec.hasCellClip() ? (Object) spec.cellClip() : Json.NULL);
        m.put("dropout", spec.dropout());
        m.put("batch_first", spec.batchFirst());
        return Json.write(m);
    }

    /** Parses and validates (through {@link LstmSpec.Builder#build()}); errors name the field. */
    public static LstmSpec fromJson(String json) {
        Map<String, Object> m;
        try {
            m = Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("lstm spec: " + e.getMessage());
        }
        for (String key : m.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new IllegalArgumentException("lstm spec: unknown field '" + key + "' (expected " + FIELDS + ")");
            }
        }
        long version = integer(m, "version");
        if (version != VERSION) {
            throw new IllegalArgumentException("lstm spec: version: expected " + VERSION + ", got " + version);
        }
        LstmSpec.Builder b = LstmSpec.builder(intField(m, "input_size"), intField(m, "hidden_size"))
                .numLayers(intField(m, "num_layers"))
                .projSize(intField(m, "proj_size"))
                .bidirectional(bool(m, "bidirectional"))
                .peepholes(bool(m, "peepholes"))
                .inputForget(bool(m, "input_forget"))
                .clip(optionalNumber(m, "clip"))
                .cellClip(optionalNumber(m, "cell_clip"))
                .dropout(number(m, "dropout"))
                .batchFirst(bool(m, "batch_first"));
        Object acts = m.get("activations");
        if (!(acts instanceof List<?> list) || list.size() != 3 || !list.stream().allMatch(String.class::isInstance)) {
            throw new IllegalArgumentException("lstm spec: activations: expected 3 strings (f, g, h), got " + acts);
        }
        b.activations(Activation.parse((String) list.get(0)), Activation.parse((String) list.get(1)),
                Activation.parse((String) list.get(2)));
        return b.build();
    }

    private static Object required(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("lstm spec: field '" + key + "' is missing");
        }
        return v;
    }

    private static long integer(Map<String, Object> m, String key) {
        if (!(required(m, key) instanceof Long v)) {
            throw new IllegalArgumentException("lstm spec: " + key + ": expected an integer, got " + m.get(key));
        }
        return v;
    }

    private static int intField(Map<String, Object> m, String key) {
        long v = integer(m, key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("lstm spec: " + key + ": expected a 32-bit integer, got " + v);
        }
        return (int) v;
    }

    private static boolean bool(Map<String, Object> m, String key) {
        if (!(required(m, key) instanceof Boolean v)) {
            throw new IllegalArgumentException("lstm spec: " + key + ": expected true or false, got " + m.get(key));
        }
        return v;
    }

    private static double number(Map<String, Object> m, String key) {
        if (!(required(m, key) instanceof Number v)) {
            throw new IllegalArgumentException("lstm spec: " + key + ": expected a number, got " + m.get(key));
        }
        return v.doubleValue();
    }

    private static double optionalNumber(Map<String, Object> m, String key) {
        return required(m, key) == Json.NULL ? Double.NaN : number(m, key);
    }
}
