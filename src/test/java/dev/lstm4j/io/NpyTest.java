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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** A file laid out as NumPy writes it: magic, version, header length, the dict, data. */
    private Path file(int major, String dict, byte[] data) throws IOException {
        byte[] h = (dict + "\n").getBytes(StandardCharsets.UTF_8);
        int prefix = major == 1 ? 10 : 12;
        ByteBuffer b = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        b.put(h).put(data);
        Path p = dir.resolve("a" + major + ".npy");
        Files.write(p, b.array());
        return p;
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    @Test
    void roundTripsFloatsAndIntegers() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Tensor f32 = Tensor.of(arena, Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, -6.5f});
            Tensor f64 = Tensor.of(arena, DType.FLOAT64, Shape.of(3), new double[] {Math.E, -1e-300, 7});
            Tensor scalar = Tensor.of(arena, DType.FLOAT64, Shape.of(), new double[] {1.5});
            for (Tensor t : new Tensor[] {f32, f64, scalar}) {
                Path p = dir.resolve("t.npy");
                Npy.write(p, t);
                assertEquals(0, (Files.size(p) - t.byteSize()) % 64, "header padded to 64 bytes as NumPy does");
                NpyArray a = Npy.read(p, arena);
                assertEquals(t.shape(), a.shape());
                assertEquals(t.dtype(), a.floats().dtype());
                assertArrayEquals(t.toDoubleArray(), a.floats().toDoubleArray(), 0.0);
            }
            Path p = dir.resolve("i.npy");
            Npy.writeIntegers(p, Shape.of(3), new long[] {5, 1, 3}, true);
            NpyArray a = Npy.read(p, arena);
            assertEquals("<i4", a.descr());
            assertArrayEquals(new int[] {5, 1, 3}, a.toInts());
            Npy.writeIntegers(p, Shape.of(2), new long[] {1L << 40, -2}, false);
            assertArrayEquals(new long[] {1L << 40, -2}, Npy.read(p, arena).integers());
        }
    }

    @Test
    void readsVersions1To3() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            for (int major = 1; major <= 3; major++) {
                Path p = file(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", floats(1.5f, -2f));
                NpyArray a = Npy.read(p, arena);
                assertEquals(Shape.of(2), a.shape());
                assertArrayEquals(new float[] {1.5f, -2f}, a.floats().toFloatArray());
            }
        }
    }

    private void refused(String dict, byte[] data, String expected) throws IOException {
        Path p = file(1, dict, data);
        try (Arena arena = Arena.ofConfined()) {
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npy.read(p, arena));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    @Test
    void refusesFortranOrderBigEndianOtherDtypesAndLies() throws IOException {
        refused("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", floats(1, 2), "Fortran-order");
        refused("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", floats(1, 2), "big-endian");
        refused("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", floats(1), "expected <f4, <f8, <i4 or <i8");
        refused("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", floats(1, 2), "needs 12 data bytes");
        refused("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }",
                floats(1, 2), "more elements than");
        refused("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", floats(1, 2), "non-negative integer");
        refused("{'descr': '<f4', 'fortran_order': False, 'shape': (nan,), }", floats(1, 2), "non-negative integer");
        refused("{'descr': '<f4', 'shape': (2,), }", floats(1, 2), "expected exactly 'descr'");
    }

    @Test
    void refusesHeaderLongerThanTheFileAndNonNpy() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(-1);
        Path p = dir.resolve("long.npy");
        Files.write(p, b.array());
        try (Arena arena = Arena.ofConfined()) {
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npy.read(p, arena));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            Files.writeString(p, "hello, not numpy");
            e = assertThrows(MalformedFileException.class, () -> Npy.read(p, arena));
            assertTrue(e.getMessage().contains("\\x93NUMPY"), e.getMessage());
        }
    }
}
