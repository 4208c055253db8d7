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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy's .npy format, versions 1.0, 2.0 and 3.0: the magic {@code \x93NUMPY}, a version, a header length (2 bytes
 * in 1.0, 4 bytes after), a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }},
 * then the raw data. Reads {@code <f4}, {@code <f8}, {@code <i4}, {@code <i8} in C order; Fortran order, big-endian
 * and other dtypes are refused with the reason. The header is checked against the file size before the data is
 * allocated. Writes version 1.0 (2.0 when the header needs it), header padded to 64 bytes as NumPy does.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final long MAX_HEADER_BYTES = 1 << 20;

    private Npy() {}

    public static NpyArray read(Path path, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            while (pre.hasRemaining() && ch.read(pre) > 0) { /* fill */ }
            if (pre.position() < 10) {
                throw new MalformedFileException(path, "not a .npy file: " + size + " bytes");
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (pre.get(i) != MAGIC[i]) {
                    throw new MalformedFileException(path, "not a .npy file: it does not start with \\x93NUMPY");
                }
            }
            int major = pre.get(6) & 0xff;
            int minor = pre.get(7) & 0xff;
            long headerLen;
            int prefix;
            if (major == 1) {
                headerLen = pre.getShort(8) & 0xffff;
                prefix = 10;
            } else if (major == 2 || major == 3) {
                if (pre.position() < 12) {
                    throw new MalformedFileException(path, "ends inside the .npy header length");
                }
                headerLen = pre.getInt(8) & 0xffffffffL;
                prefix = 12;
            } else {
                throw new MalformedFileException(path, ".npy version " + major + "." + minor
                        + " is not supported (expected 1.0, 2.0 or 3.0)");
            }
            if (headerLen > size - prefix || headerLen > MAX_HEADER_BYTES) {
                throw new MalformedFileException(path, "header length " + headerLen + " does not fit the file's "
                        + (size - prefix) + " remaining bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            long pos = prefix;
            while (hb.hasRemaining()) {
                int n = ch.read(hb, pos);
                if (n < 0) throw new MalformedFileException(path, "ends inside the .npy header");
                pos += n;
            }
            // 1.0 and 2.0 headers are latin-1; 3.0 is UTF-8. Both are plain ASCII for the dtypes we read.
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            Map<String, Object> dict = HeaderParser.parse(path, header);
            Object descrValue = dict.get("descr");
            Object fortran = dict.get("fortran_order");
            Object shapeValue = dict.get("shape");
            if (!(descrValue instanceof String descr) || !(fortran instanceof Boolean) || !(shapeValue instanceof long[] dims)
                    || dict.size() != 3) {
                throw new MalformedFileException(path, "header: expected exactly 'descr' (a string), 'fortran_order' "
                        + "(True/False) and 'shape' (a tuple of integers), got " + header.strip());
            }
            if ((Boolean) fortran) {
                throw new MalformedFileException(path, "Fortran-order arrays are not supported: save it in C order "
                        + "(numpy.ascontiguousarray) first");
            }
            if (descr.startsWith(">")) {
                throw new MalformedFileException(path, "big-endian dtype '" + descr + "' is not supported: convert it "
                        + "with arr.astype(arr.dtype.newbyteorder('<')) first");
            }
            int elem = switch (descr) {
                case "<f4", "<i4" -> 4;
                case "<f8", "<i8" -> 8;
                default -> throw new MalformedFileException(path, "dtype '" + descr
                        + "' is not supported: expected <f4, <f8, <i4 or <i8");
            };
            long dataStart = prefix + headerLen;
            long dataLen = size - dataStart;
            long count = 1;
            for (long d : dims) {
                if (d < 0) {
                    throw new MalformedFileException(path, "shape " + java.util.Arrays.toString(dims) + " has a negative size");
                }
                if (d != 0 && count > dataLen / d) {
                    throw new MalformedFileException(path, "shape " + java.util.Arrays.toString(dims)
                            + " holds more elements than the file's " + dataLen + " data bytes");
                }
                count *= d;
            }
            if (count * elem != dataLen) {
                throw new MalformedFileException(path, "shape " + java.util.Arrays.toString(dims) + " of " + descr
                        + " needs " + count * elem + " data bytes, the file has " + dataLen);
            }
            Shape shape = Shape.of(dims);
            if (descr.charAt(1) == 'f') {
                Tensor t = Tensor.zeros(arena, elem == 4 ? DType.FLOAT32 : DType.FLOAT64, shape);
                SafeTensors.readInto(ch, t.segment(), dataStart, path);
                return new NpyArray(path, descr, shape, t, null);
            }
            if (count > Integer.MAX_VALUE - 8) {
                throw new MalformedFileException(path, "integer array of " + count + " elements is too large");
            }
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment raw = tmp.allocate(Math.max(dataLen, 1));
                SafeTensors.readInto(ch, raw.asSlice(0, dataLen), dataStart, path);
                long[] values = new long[(int) count];
                for (int i = 0; i < values.length; i++) {
                    values[i] = elem == 4 ? raw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)
                            : raw.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                }
                return new NpyArray(path, descr, shape, null, values);
            }
        }
    }

    /** Writes a host float tensor as {@code <f4} or {@code <f8}. */
    public static void write(Path path, Tensor t) throws IOException {
        String descr = t.dtype() == DType.FLOAT32 ? "<f4" : "<f8";
        writeRaw(path, descr, t.shape(), t.segment());
    }

    /** Writes integers as {@code <i8}, or {@code <i4} when {@code int32}. */
    public static void writeIntegers(Path path, Shape shape, long[] values, boolean int32) throws IOException {
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("values: expected " + shape.elementCount() + " for shape " + shape
                    + ", got " + values.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, values.length * (int32 ? 4L : 8L)));
            for (int i = 0; i < values.length; i++) {
                if (int32) {
                    seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, Math.toIntExact(values[i]));
                } else {
                    seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, values[i]);
                }
            }
            writeRaw(path, int32 ? "<i4" : "<i8", shape, seg.asSlice(0, values.length * (int32 ? 4L : 8L)));
        }
    }

    private static void writeRaw(Path path, String descr, Shape shape, MemorySegment data) throws IOException {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.rank(); i++) {
            dims.append(shape.dim(i)).append(shape.rank() == 1 ? "," : (i + 1 < shape.rank() ? ", " : ""));
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        boolean v1 = dict.length() + 11 < 65536;
        int prefix = v1 ? 10 : 12;
        int total = (prefix + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(total - prefix - dict.length() - 1) + "\n";
        ByteBuffer head = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) (v1 ? 1 : 2)).put((byte) 0);
        if (v1) head.putShort((short) header.length()); else head.putInt(header.length());
        head.put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) ch.write(head);
            long done = 0;
            while (done < data.byteSize()) {
                long chunk = Math.min(data.byteSize() - done, 1L << 30);
                ByteBuffer buf = data.asSlice(done, chunk).asByteBuffer();
                while (buf.hasRemaining()) ch.write(buf);
                done += chunk;
            }
        }
    }

    /** The Python literal subset .npy headers use: a dict of str keys to str, bool or tuple-of-int values. */
    private static final class HeaderParser {
        private final Path path;
        private final String s;
        private int pos;

        private HeaderParser(Path path, String s) {
            this.path = path;
            this.s = s;
        }

        static Map<String, Object> parse(Path path, String header) {
            HeaderParser p = new HeaderParser(path, header);
            p.ws();
            Map<String, Object> m = p.dict();
            p.ws();
            if (p.pos != header.length()) {
                throw p.error("expected the end of the header");
            }
            return m;
        }

        private Map<String, Object> dict() {
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            while (true) {
                ws();
                if (peek() == '}') {
                    pos++;
                    return m;
                }
                String key = str();
                ws();
                expect(':');
                ws();
                if (m.put(key, value()) != null) {
                    throw error("duplicate key '" + key + "'");
                }
                ws();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') return str();
            if (s.startsWith("True", pos)) { pos += 4; return Boolean.TRUE; }
            if (s.startsWith("False", pos)) { pos += 5; return Boolean.FALSE; }
            if (c == '(') return tuple();
            throw error("expected a string, True, False or a tuple");
        }

        private long[] tuple() {
            expect('(');
            List<Long> dims = new ArrayList<>();
            while (true) {
                ws();
                if (peek() == ')') {
                    pos++;
                    break;
                }
                int start = pos;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
                if (pos == start) {
                    throw error("expected a non-negative integer in the shape");
                }
                try {
                    dims.add(Long.parseLong(s.substring(start, pos)));
                } catch (NumberFormatException e) {
                    throw error("shape size too large");
                }
                if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 longs
                ws();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != ')') {
                    throw error("expected ',' or ')'");
                }
                if (dims.size() > 64) {
                    throw error("more than 64 dimensions");
                }
            }
            return dims.stream().mapToLong(Long::longValue).toArray();
        }

        private String str() {
            char q = peek();
            if (q != '\'' && q != '"') {
                throw error("expected a quoted string");
            }
            int end = s.indexOf(q, pos + 1);
            if (end < 0) {
                throw error("unterminated string");
            }
            String v = s.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        private void ws() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        private char peek() {
            if (pos >= s.length()) throw error("unexpected end of the header");
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        private MalformedFileException error(String what) {
            return new MalformedFileException(path, "header: " + what + " at character " + pos + " of '"
                    + s.strip() + "'");
        }
    }
}
