package dev.lstm4j.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An IDX file (the MNIST format), gzipped or not: magic 0x00 0x00 type rank, then rank big-endian int32 sizes, then
 * the data. Only unsigned bytes (type 0x08) are read, the type every MNIST-style data set uses. A wrong magic, a
 * truncated file, trailing bytes or a broken gzip stream is refused with the file's name and what was wrong.
 */
public record IdxFile(Path path, int[] dims, byte[] data) {
    private static final int MAX_BYTES = 1 << 30;

    public static IdxFile read(Path path) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
            DataInputStream d = new DataInputStream(in);
            int zero0 = d.readUnsignedByte();
            int zero1 = d.readUnsignedByte();
            int type = d.readUnsignedByte();
            int rank = d.readUnsignedByte();
            if (zero0 != 0 || zero1 != 0 || rank < 1 || rank > 4) {
                throw corrupt(path, String.format("expected IDX magic 00 00 <type> <rank 1..4>, got %02x %02x %02x %02x",
                        zero0, zero1, type, rank));
            }
            if (type != 0x08) {
                throw corrupt(path, String.format("expected element type 0x08 (unsigned byte), got 0x%02x", type));
            }
            int[] dims = new int[rank];
            long count = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = d.readInt();
                if (dims[i] < 0) throw corrupt(path, "dimension " + i + " is negative: " + dims[i]);
                count *= dims[i];
                if (count > MAX_BYTES) throw corrupt(path, "sizes " + Arrays.toString(Arrays.copyOf(dims, i + 1)) + " exceed 1 GiB");
            }
            byte[] data = new byte[(int) count];
            try {
                d.readFully(data);
            } catch (EOFException e) {
                throw corrupt(path, "truncated: sizes " + Arrays.toString(dims) + " need " + count + " data bytes");
            }
            if (d.read() != -1) {
                throw corrupt(path, "trailing bytes after the " + count + " data bytes of sizes " + Arrays.toString(dims));
            }
            return new IdxFile(path, dims, data);
        } catch (NoSuchFileException e) {
            throw new DataException(path + ": no such file");
        } catch (EOFException e) {
            throw corrupt(path, "truncated header");
        } catch (ZipException e) {
            throw corrupt(path, "broken gzip stream (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw corrupt(path, e.toString());
        }
    }

    private static DataException corrupt(Path path, String what) {
        return new DataException(path + ": not a valid IDX file: " + what);
    }

    /** Images [N, rows, cols] with labels [N] (values 0..classes-1) as a data set, pixels divided by 255. */
    public static ImageDataset images(String name, IdxFile images, IdxFile labels, int classes) {
        if (images.dims.length != 3) {
            throw new DataException(images.path + ": expected 3 dimensions [N, rows, cols] for images, got "
                    + Arrays.toString(images.dims));
        }
        if (labels.dims.length != 1) {
            throw new DataException(labels.path + ": expected 1 dimension [N] for labels, got " + Arrays.toString(labels.dims));
        }
        if (images.dims[0] != labels.dims[0]) {
            throw new DataException(labels.path + ": expected " + images.dims[0] + " labels (one per image in "
                    + images.path.getFileName() + "), got " + labels.dims[0]);
        }
        float[] px = new float[images.data.length];
        for (int i = 0; i < px.length; i++) px[i] = (images.data[i] & 0xff) / 255f;
        int[] l = new int[labels.dims[0]];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels.data[i] & 0xff;
            if (l[i] >= classes) {
                throw new DataException(labels.path + ": label " + i + " is " + l[i] + ", expected 0.." + (classes - 1));
            }
        }
        return new ImageDataset(name, images.dims[1], images.dims[2], px, l, classes);
    }
}
