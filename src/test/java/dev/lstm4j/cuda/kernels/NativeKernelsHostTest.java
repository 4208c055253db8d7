package dev.lstm4j.cuda.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The launchers of the host build, called directly: their semantics, argument checks and status reporting. */
class NativeKernelsHostTest {
    private final HostDeviceOps ops = new HostDeviceOps();
    private final DeviceOps.Workspace ws = ops.workspace();
    private final NativeKernels k = ops.kernels();

    @AfterEach
    void close() {
        ws.close();
        ops.close();
    }

    private DevicePtr floats(float... values) {
        DevicePtr p = ws.floats(values.length);
        MemorySegment.copy(values, 0, p.hostSegment(), JAVA_FLOAT, 0, values.length);
        return p;
    }

    private static float[] read(DevicePtr p) {
        return p.hostSegment().toArray(JAVA_FLOAT);
    }

    @Test
    void theHostLibraryIsTheGccBuild() {
        assertEquals("host", k.buildInfo());
        assertEquals("success", k.statusText(0));
        assertEquals(1, k.deviceCount());
    }

    @Test
    void seqCopyReversesEachSequenceWithinItsLengthAndZeroesPadding() {
        // [T=3, B=2, W=1]: entry 0 has length 3, entry 1 length 2
        DevicePtr src = floats(10, 20, 11, 21, 12, 22);
        DevicePtr dst = ws.floats(6);
        k.seqCopy(3, 2, 1, src, 2, 1, dst, 2, 1, ws.ints(new int[] {3, 2}), true, false);
        assertArrayEquals(new float[] {12, 21, 11, 20, 10, 0}, read(dst));
        k.seqCopy(3, 2, 1, src, 2, 1, dst, 2, 1, ws.ints(new int[] {3, 2}), false, true);
        assertArrayEquals(new float[] {22, 41, 22, 41, 22, 0}, read(dst));
    }

    @Test
    void seqCopyTransposesBatchFirstToTimeMajor() {
        // [B=2, T=3, W=2] batch-first to [T, B, W]
        DevicePtr src = floats(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        DevicePtr dst = ws.floats(12);
        k.seqCopy(3, 2, 2, src, 2, 6, dst, 4, 2, DevicePtr.NULL, false, false);
        assertArrayEquals(new float[] {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}, read(dst));
    }

    @Test
    void columnSumAndMaskSelect() {
        DevicePtr m = floats(1, 2, 3, 4, 5, 6); // [3, 2]
        DevicePtr sums = floats(100, 200);
        k.columnSum(3, 2, m, sums, false);
        assertArrayEquals(new float[] {9, 12}, read(sums));
        k.columnSum(3, 2, m, sums, true);
        assertArrayEquals(new float[] {18, 24}, read(sums));
        DevicePtr out = ws.floats(6);
        k.maskSelect(3, 2, m, floats(-1, -2, -3, -4, -5, -6), ws.ints(new int[] {2, 1, 3}), 1, out);
        assertArrayEquals(new float[] {1, 2, -3, -4, 5, 6}, read(out));
    }

    @Test
    void aRangeSmallerThanTheSizesIsRefusedBeforeTheDowncall() {
        DevicePtr small = ws.floats(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.add(4, small, small, small));
        assertTrue(e.getMessage().contains("room for 4 elements"), e.getMessage());
        IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                () -> ops.gemm(false, false, 2, 2, 2, 1f, small, 2, small, 2, 0f, small, 2));
        assertTrue(g.getMessage().contains("gemm operand A"), g.getMessage());
    }

    @Test
    void aLauncherFailureCarriesTheCallAndTheStatusText() {
        int batch = 1;
        int hidden = 2;
        DevicePtr g4 = ws.floats(4L * batch * hidden);
        DevicePtr bh = ws.floats((long) batch * hidden);
        CellOptions bad = new CellOptions(99, 0, 0, 1, 0, 0, 1, 0, 0, false, false, 0, false, 0);
        KernelException e = assertThrows(KernelException.class, () -> k.forwardPointwise(batch, hidden, g4, g4,
                ws.floats(8), ws.floats(8), DevicePtr.NULL, bh, DevicePtr.NULL, ws.ints(new int[] {1}), 0, bad, bh,
                bh, DevicePtr.NULL, DevicePtr.NULL, DevicePtr.NULL, DevicePtr.NULL));
        assertTrue(e.getMessage().contains("lstm4j_forward_pointwise"), e.getMessage());
        assertTrue(e.getMessage().contains("status 10001") && e.getMessage().contains("bad argument"), e.getMessage());
    }

    @Test
    void hostGemmMatchesTheDefinitionForEveryTransposition() {
        // A [2, 3], B [3, 2] stored plainly and transposed; C = A B + 0.5 C
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] aT = {1, 4, 2, 5, 3, 6};
        float[] b = {7, 8, 9, 10, 11, 12};
        float[] bT = {7, 9, 11, 8, 10, 12};
        float[] expected = {58 + 0.5f, 64 + 1, 139 + 1.5f, 154 + 2};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                DevicePtr c = floats(1, 2, 3, 4);
                ops.gemm(ta, tb, 2, 2, 3, 1f, floats(ta ? aT : a), ta ? 2 : 3, floats(tb ? bT : b), tb ? 3 : 2, 0.5f,
                        c, 2);
                assertArrayEquals(expected, read(c), "transA=" + ta + " transB=" + tb);
            }
        }
    }
}
