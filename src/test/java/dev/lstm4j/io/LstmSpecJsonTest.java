package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.Initializer;
import dev.lstm4j.lstm.LstmParams;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LstmSpecJsonTest {
    @TempDir
    Path dir;

    static LstmSpec everyField() {
        return LstmSpec.builder(5, 7).numLayers(3).projSize(4).bidirectional(true).peepholes(true).inputForget(true)
                .activations(Activation.parse("HardSigmoid(0.3,0.6)"), Activation.parse("LeakyRelu(0.1)"),
                        Activation.parse("ScaledTanh(1.5,0.25)"))
                .clip(3.25).cellClip(1e-3).dropout(0.125).batchFirst(true).build();
    }

    @Test
    void roundTripsEveryField() {
        for (LstmSpec spec : new LstmSpec[] {everyField(), LstmSpec.builder(1, 1).build()}) {
            assertEquals(spec, LstmSpecJson.fromJson(LstmSpecJson.toJson(spec)));
        }
        assertTrue(LstmSpecJson.toJson(LstmSpec.builder(1, 1).build()).contains("\"clip\":null"));
    }

    @Test
    void refusesUnknownFieldsMissingFieldsAndInvalidSpecs() {
        String ok = LstmSpecJson.toJson(LstmSpec.builder(2, 3).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LstmSpecJson.fromJson(ok.replace("{", "{\"zoneout\":0.1,")));
        assertTrue(e.getMessage().contains("unknown field 'zoneout'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LstmSpecJson.fromJson(ok.replace("\"hidden_size\":3,", "")));
        assertTrue(e.getMessage().contains("'hidden_size' is missing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LstmSpecJson.fromJson(ok.replace("\"hidden_size\":3", "\"hidden_size\":-3")));
        assertTrue(e.getMessage().contains("hiddenSize"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LstmSpecJson.fromJson(ok.replace("\"version\":1", "\"version\":2")));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
    }

    @Test
    void checkpointAloneRebuildsTheLayer() throws IOException {
        LstmSpec spec = everyField();
        Path p = dir.resolve("ck.safetensors");
        try (LstmParams params = LstmParams.initialized(spec, DType.FLOAT64, Initializer.pytorchUniform(), 3);
             Arena arena = Arena.ofConfined()) {
            Tensor extra = Tensor.zeros(arena, DType.FLOAT32, 2);
            Checkpoint.save(p, params, Map.of("step", "17"), Map.of("optimizer.m", extra));
            try (LstmParams back = Checkpoint.load(p, DType.FLOAT64)) {
                assertEquals(spec, back.spec());
                for (String n : spec.parameterNames()) {
                    assertArrayEquals(params.get(n).toDoubleArray(), back.get(n).toDoubleArray(), 0.0, n);
                }
            }
            try (SafeTensorsFile f = SafeTensors.read(p)) {
                assertEquals("17", f.metadata().get("step"));
                assertEquals("lstm4j", f.metadata().get(Checkpoint.FORMAT_KEY));
                assertTrue(f.names().contains("optimizer.m"));
            }
        }
    }
}
