package dev.lstm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A file with a hand-written header and raw data bytes, as a foreign writer (or a liar) would produce. */
    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = dir.resolve("f.safetensors");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void writesAndReadsFloat32AndFloat64ExactlyWithMetadata() throws IOException {
        Path p = dir.resolve("rt.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a", Tensor.of(arena, Shape.of(2, 3), new float[] {1f, -2.5f, 3e-8f, Float.MAX_VALUE, 0f, -0f}));
            in.put("b", Tensor.of(arena, DType.FLOAT64, Shape.of(3), new double[] {Math.PI, -1e300, 1e-310}));
            in.put("empty", Tensor.zeros(arena, DType.FLOAT32, 0, 4));
            in.put("scalar", Tensor.of(arena, DType.FLOAT64, Shape.of(), new double[] {42}));
            SafeTensors.write(p, in, Map.of("note", "héllo \"quoted\"\n", "k", "v"));
            try (SafeTensorsFile f = SafeTensors.read(p)) {
                assertEquals(in.keySet(), f.tensors().keySet());
                for (String n : in.keySet()) {
                    assertEquals(in.get(n).dtype(), f.get(n).dtype(), n);
                    assertEquals(in.get(n).shape(), f.get(n).shape(), n);
                    assertArrayEquals(in.get(n).toDoubleArray(), f.get(n).toDoubleArray(), 0.0, n);
                }
                assertEquals("héllo \"quoted\"\n", f.metadata().get("note"));
                assertEquals("v", f.metadata().get("k"));
                assertEquals("F64", f.fileDType("b"));
            }
        }
        // The data section starts 8-aligned, as the reference writer makes it.
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
    }

    /**
     * The same tensors and metadata give the same bytes, whatever order the metadata map iterates in: checkpoints of
     * the main job differed only there, from a {@code Map.of}, whose order changes from one JVM to the next.
     */
    @Test
    void writesTheSameBytesWhateverTheMetadataMapsOrder() throws IOException {
        Map<String, String> forward = new LinkedHashMap<>();
        Map<String, String> backward = new LinkedHashMap<>();
        for (int k = 0; k < 20; k++) forward.put("key" + k, "value " + k);
        for (int k = 19; k >= 0; k--) backward.put("key" + k, "value " + k);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = Map.of("w", Tensor.of(arena, Shape.of(2), new float[] {1f, 2f}));
            SafeTensors.write(a, in, forward);
            SafeTensors.write(b, in, backward);
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        try (SafeTensorsFile f = SafeTensors.read(a)) {
            assertEquals(forward, f.metadata());
        }
    }

    @Test
    void readsHalfAndBfloat16IntoFloat32() throws IOException {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: 1.0 = 0x3F80, 3.140625 = 0x4049 (exact in both).
        ByteBuffer d = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x3800);
        d.putShort((short) 0x3F80).putShort((short) 0x4049);
        Path p = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]}}", d.array());
        try (SafeTensorsFile f = SafeTensors.read(p)) {
            assertEquals(DType.FLOAT32, f.get("h").dtype());
            assertArrayEquals(new float[] {1f, -2f, 0.5f}, f.get("h").toFloatArray());
            assertArrayEquals(new float[] {1f, 3.140625f}, f.get("b").toFloatArray());
            assertEquals("BF16", f.fileDType("b"));
        }
    }

    private void refused(String header, int dataBytes, String expectedInMessage) throws IOException {
        Path p = raw(header, new byte[dataBytes]);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> SafeTensors.read(p).close());
        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
    }

    @Test
    void refusesFilesThatLie() throws IOException {
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "out of range");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "unused");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "trailing");
        refused("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype: expected F32, F64, F16 or BF16, got 'Q4'");
        refused("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "got 'I64'");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "expected an integer >= 0");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "expected an integer >= 0");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}}", 4, "not a JSON object");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,4]}}", 4, "expected an integer >= 0");
        // 2^62 x 2^62 elements would overflow a long; refused by comparing with the data size, before any allocation.
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,4]}}",
                4, "more elements than");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "expected 2 integers");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4, "data_offsets[1]");
        refused("{\"__metadata__\":{\"k\":1}}", 0, "expected a string");
        refused("[1,2]", 0, "not a JSON object");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unexpected field");
    }

    @Test
    void refusesAHeaderLongerThanTheFileBeforeReadingIt() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(Long.MAX_VALUE).putLong(0);
        Path p = dir.resolve("long.safetensors");
        Files.write(p, b.array());
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());

        Files.write(p, new byte[3]);
        e = assertThrows(MalformedFileException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains("at least the 8-byte header length"), e.getMessage());

        b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1);
        Files.write(p, b.array());
        e = assertThrows(MalformedFileException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
    }

    @Test
    void refusesDeeplyNestedHeaders() throws IOException {
        String deep = "{\"__metadata__\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        refused(deep, 0, "nesting deeper");
    }
}
