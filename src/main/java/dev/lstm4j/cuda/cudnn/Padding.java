package dev.lstm4j.cuda.cudnn;

import dev.lstm4j.tensor.Tensor;

/** Zeroes the steps past each sequence's length in a host tensor [T, B, X] (or batch-first [B, T, X]). */
final class Padding {
    private Padding() {}

    static void zero(Tensor t, int[] lengths, boolean batchFirst) {
        long seqLength = t.shape().dim(batchFirst ? 1 : 0);
        long batch = t.shape().dim(batchFirst ? 0 : 1);
        long rowBytes = t.shape().dim(2) * t.dtype().byteSize();
        if (lengths.length != batch) {
            throw new IllegalArgumentException("lengths: expected " + batch + " entries, got " + lengths.length);
        }
        for (int b = 0; b < batch; b++) {
            for (long s = lengths[b]; s < seqLength; s++) {
                long row = batchFirst ? b * seqLength + s : s * batch + b;
                t.segment().asSlice(row * rowBytes, rowBytes).fill((byte) 0);
            }
        }
    }
}
