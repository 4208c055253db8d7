package dev.lstm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorTest {

    @Test
    void rowMajorIndexingAndViews() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.of(arena, DType.FLOAT64, Shape.of(2, 3), new double[] {0, 1, 2, 3, 4, 5});
            assertEquals(5.0, t.get(1, 2));
            Tensor row = t.slice(1);
            assertEquals(Shape.of(3), row.shape());
            row.set(9.0, 0);
            assertEquals(9.0, t.get(1, 0), "a slice shares memory");
            assertArrayEquals(new double[] {0, 1, 2, 9, 4, 5}, t.reshape(Shape.of(6)).toDoubleArray());
        }
    }

    @Test
    void everyAccessIsBoundsChecked() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.zeros(arena, DType.FLOAT32, 2, 3);
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(0));
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.getFlat(6));
            assertEquals("flat: expected 0..5 for shape [2, 3], got 6", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFlat(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> t.setFlat(6, 1.0));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1).getFlat(3));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(Shape.of(7)));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new double[5]));
        }
    }

    @Test
    void memoryDiesWithItsArena() {
        Tensor t;
        Tensor f;
        try (Arena arena = Arena.ofConfined()) {
            t = Tensor.zeros(arena, DType.FLOAT64, 4);
            f = Tensor.zeros(arena, DType.FLOAT32, 4);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getFlat(0));
        assertEquals("tensor [4] float64: expected memory whose arena is open, got memory whose arena is closed (read "
                + "results before closing the output, gradients or arena they belong to)", e.getMessage());
        for (Tensor closed : new Tensor[] {t, f}) {
            for (Executable access : accesses(closed)) {
                e = assertThrows(IllegalStateException.class, access);
                assertTrue(e.getMessage().startsWith("tensor [4] " + closed.dtype() + ": expected memory whose arena "
                        + "is open"), e.getMessage());
            }
        }
        try (Arena open = Arena.ofConfined()) {
            e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(open, DType.FLOAT64, 4).copyFrom(t));
            assertTrue(e.getMessage().startsWith("tensor [4] float64: expected memory whose arena is open"),
                    e.getMessage());
        }
    }

    @Test
    void aConfinedTensorIsRefusedOnAnotherThreadByName() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.zeros(arena, DType.FLOAT32, 2, 3);
            List<String> messages = new ArrayList<>();
            Thread other = new Thread(() -> {
                for (Executable access : accesses(t)) {
                    messages.add(assertThrows(WrongThreadException.class, access).getMessage());
                }
            });
            other.start();
            other.join();
            assertEquals(accesses(t).size(), messages.size(), "every access refused on the other thread");
            for (String m : messages) {
                assertEquals("tensor [2, 3] float32: expected a tensor the calling thread may access, got one "
                        + "confined to another thread (its arena is confined)", m);
            }
        }
    }

    /** Each way to read or write a host tensor's elements. */
    private static List<Executable> accesses(Tensor t) {
        int n = (int) t.elementCount();
        return List.of(() -> t.getFlat(0), () -> t.setFlat(0, 1.0), () -> t.toDoubleArray(), () -> t.toFloatArray(),
                () -> t.copyFrom(new double[n]), () -> t.copyFrom(new float[n]));
    }

    @Test
    void dtypeConversionRoundsToFloat() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor d = Tensor.of(arena, DType.FLOAT64, Shape.of(2), new double[] {0.1, 1e-50});
            Tensor f = d.to(DType.FLOAT32, arena);
            assertEquals(DType.FLOAT32, f.dtype());
            assertEquals((double) 0.1f, f.getFlat(0));
            assertEquals(0.0, f.getFlat(1));
            assertEquals(8, f.byteSize());
        }
    }

    @Test
    void shapesRejectNegativeAndOverflowingDimensions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        assertTrue(e.getMessage().contains("dimension 1") && e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Shape.of(Long.MAX_VALUE, 3));
        assertEquals("shape: expected at most " + Long.MAX_VALUE + " elements, got [" + Long.MAX_VALUE + ", 3], whose "
                + "product overflows a long", e.getMessage());
    }

    @Test
    void onlyAConfinedArenasMemoryIsForOneThreadAlone() {
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            assertTrue(Tensor.zeros(shared, DType.FLOAT32, 2, 3).isAccessibleByAnyThread(), "shared");
            assertTrue(Tensor.zeros(Arena.ofAuto(), DType.FLOAT32, 2, 3).isAccessibleByAnyThread(), "auto");
            assertTrue(Tensor.wrap(MemorySegment.ofArray(new float[6]), DType.FLOAT32, Shape.of(2, 3))
                    .isAccessibleByAnyThread(), "heap");
            assertFalse(Tensor.zeros(confined, DType.FLOAT32, 2, 3).isAccessibleByAnyThread(), "confined");
        }
    }
}
