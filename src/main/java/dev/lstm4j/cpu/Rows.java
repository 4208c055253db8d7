package dev.lstm4j.cpu;

import java.lang.foreign.MemorySegment;

/** Row copies between [rows, w] blocks of the workspace that honour the active rows of a masked step. */
final class Rows {
    private Rows() {}

    /** Copies the active rows (width w, source stride srcLd) into a dense [rows, w] destination at dstOff. */
    static void copy(MemorySegment src, long srcOff, int srcLd, MemorySegment dst, long dstOff, int w, int rows,
                     boolean[] active, int activeOff) {
        long rowBytes = (long) w * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            if (active == null || active[activeOff + r]) {
                MemorySegment.copy(src, (srcOff + (long) r * srcLd) * Float.BYTES, dst,
                        dstOff * Float.BYTES + r * rowBytes, rowBytes);
            }
        }
    }

    /** dst[r] = a[r] + b[bOff + r * bLd] for active rows (width w, a and dst dense), 0 for inactive ones. */
    static void add(MemorySegment a, long aOff, MemorySegment b, long bOff, int bLd, MemorySegment dst, long dstOff,
                    int w, int rows, boolean[] active, int activeOff) {
        for (int r = 0; r < rows; r++) {
            long dRow = dstOff + (long) r * w;
            if (active != null && !active[activeOff + r]) {
                VectorMath.zero(dst, dRow, w);
                continue;
            }
            VectorMath.add(a, aOff + (long) r * w, b, bOff + (long) r * bLd, dst, dRow, w);
        }
    }
}
