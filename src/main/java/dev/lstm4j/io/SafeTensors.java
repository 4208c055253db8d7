package dev.lstm4j.io;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON ({@code name -> {dtype, shape,
 * data_offsets: [begin, end]}} plus an optional {@code __metadata__} map of strings), then the raw little-endian
 * data, offsets relative to its start.
 *
 * <p>Reading validates the whole header against the file's real size before allocating anything: a header longer
 * than the file, an unknown dtype, a negative or non-integer size, a shape whose byte count differs from its
 * offsets, offsets past the end, overlapping tensors or holes in the data are all refused with a
 * {@link MalformedFileException}. F32 and F64 are read as float32 and float64; F16 and BF16 are widened to float32.
 * Writing stores float32 tensors as F32 and float64 as F64.
 */
public final class SafeTensors {
    /** Larger headers are refused, as the reference implementation does (its limit is 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    private SafeTensors() {}

    /** Bytes per element of a dtype this reader accepts, or -1. */
    static int elementSize(String dtype) {
        return switch (dtype) {
            case "F16", "BF16" -> 2;
            case "F32" -> 4;
            case "F64" -> 8;
            default -> -1;
        };
    }

    private record Entry(String name, String dtype, Shape shape, long begin, long end) {}

    public static SafeTensorsFile read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new MalformedFileException(path, "not a safetensors file: " + fileSize
                        + " bytes, expected at least the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > fileSize - 8) {
                throw new MalformedFileException(path, "header length " + Long.toUnsignedString(headerLen)
                        + " does not fit: the file has " + (fileSize - 8) + " bytes after the length field");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw new MalformedFileException(path, "header length " + headerLen + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, path);
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBuf.flip()).toString();
            } catch (CharacterCodingException e) {
                throw new MalformedFileException(path, "header is not valid UTF-8");
            }
            long dataStart = 8 + headerLen;
            long dataLen = fileSize - dataStart;
            Map<String, Object> json;
            try {
                json = Json.parseObject(header);
            } catch (IllegalArgumentException e) {
                throw new MalformedFileException(path, "header is not a JSON object: " + e.getMessage());
            }
            Map<String, String> metadata = metadata(path, json.get(METADATA_KEY));
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, Object> e : json.entrySet()) {
                if (!e.getKey().equals(METADATA_KEY)) {
                    entries.add(entry(path, e.getKey(), e.getValue(), dataLen));
                }
            }
            checkLayout(path, entries, dataLen);

            Arena arena = Arena.ofShared();
            try {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                Map<String, String> dtypes = new LinkedHashMap<>();
                for (Entry en : entries) {
                    tensors.put(en.name, load(ch, path, en, dataStart, arena));
                    dtypes.put(en.name, en.dtype);
                }
                return new SafeTensorsFile(arena, tensors, metadata, dtypes);
            } catch (IOException | RuntimeException ex) {
                arena.close();
                throw ex;
            }
        }
    }

    private static Map<String, String> metadata(Path path, Object value) {
        Map<String, String> out = new LinkedHashMap<>();
        if (value == null) {
            return out;
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new MalformedFileException(path, METADATA_KEY + ": expected an object of strings, got "
                    + Json.typeName(value));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new MalformedFileException(path, METADATA_KEY + "." + e.getKey()
                        + ": expected a string, got " + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static Entry entry(Path path, String name, Object value, long dataLen) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new MalformedFileException(path, "tensor '" + name + "': expected an object, got " + Json.typeName(value));
        }
        for (Object key : m.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new MalformedFileException(path, "tensor '" + name + "': unexpected field '" + key
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        if (!(m.get("dtype") instanceof String dtype)) {
            throw new MalformedFileException(path, "tensor '" + name + "': dtype: expected a string, got "
                    + Json.typeName(m.get("dtype")));
        }
        int elem = elementSize(dtype);
        if (elem < 0) {
            throw new MalformedFileException(path, "tensor '" + name + "': dtype: expected F32, F64, F16 or BF16, got '"
                    + dtype + "'");
        }
        long[] dims = integers(path, name, "shape", m.get("shape"), -1);
        long[] offsets = integers(path, name, "data_offsets", m.get("data_offsets"), 2);
        long count = 1;
        for (long d : dims) {
            // Every element takes at least 2 bytes, so a count beyond the data's size is already a lie.
            if (d != 0 && count > dataLen / d) {
                throw new MalformedFileException(path, "tensor '" + name + "': shape " + java.util.Arrays.toString(dims)
                        + " holds more elements than the file's " + dataLen + " data bytes");
            }
            count *= d;
        }
        long bytes = count * elem;
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataLen) {
            throw new MalformedFileException(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end
                    + "] out of range: expected begin <= end <= " + dataLen + " (the data size)");
        }
        if (end - begin != bytes) {
            throw new MalformedFileException(path, "tensor '" + name + "': shape " + java.util.Arrays.toString(dims)
                    + " of " + dtype + " needs " + bytes + " bytes, but data_offsets [" + begin + ", " + end
                    + "] span " + (end - begin));
        }
        return new Entry(name, dtype, Shape.of(dims), begin, end);
    }

    private static long[] integers(Path path, String tensor, String field, Object value, int expectedLength) {
        if (!(value instanceof List<?> list)) {
            throw new MalformedFileException(path, "tensor '" + tensor + "': " + field + ": expected an array of integers, got "
                    + (value == null ? "nothing" : Json.typeName(value)));
        }
        if (expectedLength >= 0 && list.size() != expectedLength) {
            throw new MalformedFileException(path, "tensor '" + tensor + "': " + field + ": expected " + expectedLength
                    + " integers, got " + list.size());
        }
        if (list.size() > 64) {
            throw new MalformedFileException(path, "tensor '" + tensor + "': " + field + ": expected at most 64 dimensions, got "
                    + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new MalformedFileException(path, "tensor '" + tensor + "': " + field + "[" + i
                        + "]: expected an integer >= 0, got " + list.get(i));
            }
            out[i] = v;
        }
        return out;
    }

    /** Tensors must tile the data exactly: no overlap, no hole, nothing past the end (as the format requires). */
    private static void checkLayout(Path path, List<Entry> entries, long dataLen) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin < expected) {
                throw new MalformedFileException(path, "tensor '" + e.name + "': data_offsets [" + e.begin + ", " + e.end
                        + "] overlap tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end + "]");
            }
            if (e.begin > expected) {
                throw new MalformedFileException(path, "tensor '" + e.name + "': data_offsets begin at " + e.begin
                        + ", leaving bytes " + expected + ".." + (e.begin - 1) + " unused (the format allows no holes)");
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataLen) {
            throw new MalformedFileException(path, "the tensors cover " + expected + " data bytes but the file holds "
                    + dataLen + " (the format allows no trailing bytes)");
        }
    }

    private static Tensor load(FileChannel ch, Path path, Entry e, long dataStart, Arena arena) throws IOException {
        long bytes = e.end - e.begin;
        long position = dataStart + e.begin;
        switch (e.dtype) {
            case "F32", "F64" -> {
                DType dtype = e.dtype.equals("F32") ? DType.FLOAT32 : DType.FLOAT64;
                Tensor t = Tensor.zeros(arena, dtype, e.shape);
                readInto(ch, t.segment(), position, path);
                return t;
            }
            default -> {
                Tensor t = Tensor.zeros(arena, DType.FLOAT32, e.shape);
                try (Arena tmp = Arena.ofConfined()) {
                    MemorySegment raw = tmp.allocate(Math.max(bytes, 1));
                    readInto(ch, raw.asSlice(0, bytes), position, path);
                    boolean bf16 = e.dtype.equals("BF16");
                    for (long k = 0; k < t.elementCount(); k++) {
                        short bits = raw.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, k);
                        float v = bf16 ? Float.intBitsToFloat((bits & 0xffff) << 16) : Float.float16ToFloat(bits);
                        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k, v);
                    }
                }
                return t;
            }
        }
    }

    static void readInto(FileChannel ch, MemorySegment target, long position, Path path) throws IOException {
        long done = 0;
        long size = target.byteSize();
        while (done < size) {
            long chunk = Math.min(size - done, 1L << 30);
            ByteBuffer buf = target.asSlice(done, chunk).asByteBuffer();
            readFully(ch, buf, position + done, path);
            done += chunk;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position);
            if (n < 0) {
                throw new MalformedFileException(path, "ends early at byte " + position);
            }
            position += n;
        }
    }

    /**
     * Writes {@code tensors} (host, float32 as F32 and float64 as F64) in the given order, with {@code metadata}
     * as {@code __metadata__} (omitted when empty) in key order: the same content gives the same bytes whatever the
     * map's own order (a {@code Map.of}'s changes from one JVM to the next).
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put(METADATA_KEY, new TreeMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name: '" + METADATA_KEY + "' is reserved by the format");
            }
            Tensor t = e.getValue();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype() == DType.FLOAT32 ? "F32" : "F64");
            info.put("shape", t.shape().dims());
            info.put("data_offsets", new long[] {offset, offset + t.byteSize()});
            header.put(e.getKey(), info);
            offset += t.byteSize();
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data starts 8-aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) ch.write(head);
            for (Tensor t : tensors.values()) {
                MemorySegment seg = t.segment();
                long done = 0;
                while (done < seg.byteSize()) {
                    long chunk = Math.min(seg.byteSize() - done, 1L << 30);
                    ByteBuffer buf = seg.asSlice(done, chunk).asByteBuffer();
                    while (buf.hasRemaining()) ch.write(buf);
                    done += chunk;
                }
            }
        }
    }
}
