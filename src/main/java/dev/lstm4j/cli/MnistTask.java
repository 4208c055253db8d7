package dev.lstm4j.cli;

import dev.lstm4j.data.DataException;
import dev.lstm4j.data.FashionMnist;
import dev.lstm4j.data.ImageDataset;
import dev.lstm4j.data.MnistDigits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Which image data a classifier run uses, how to load it, and how a checkpoint records it. */
record MnistTask(String kind, Path path, double testFraction, long splitSeed) {
    static final String FASHION = "fashion-mnist";
    static final String DIGITS = "mnist-digits";

    record Data(ImageDataset train, ImageDataset test) {}

    static MnistTask fromArgs(Args args) {
        Path digits = args.pathOption("digits", null);
        Path data = args.pathOption("data", null);
        double fraction = args.doubleOption("test-fraction", 0.2);
        long splitSeed = args.longOption("split-seed", 1);
        if (digits != null && data != null) throw new UsageException("--digits and --data: expected one of them, got both");
        return digits != null ? new MnistTask(DIGITS, digits, fraction, splitSeed)
                : new MnistTask(FASHION, data != null ? data : FashionMnist.DEFAULT_DIR, fraction, splitSeed);
    }

    static MnistTask fromMetadata(Map<String, String> m) {
        return new MnistTask(m.getOrDefault("data.kind", FASHION), Path.of(m.getOrDefault("data.path",
                FashionMnist.DEFAULT_DIR.toString())), Double.parseDouble(m.getOrDefault("data.test_fraction", "0.2")),
                Long.parseLong(m.getOrDefault("data.split_seed", "1")));
    }

    Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task", "mnist");
        m.put("data.kind", kind);
        m.put("data.path", path.toString());
        m.put("data.test_fraction", Double.toString(testFraction));
        m.put("data.split_seed", Long.toString(splitSeed));
        return m;
    }

    Data load() {
        try {
            if (kind.equals(DIGITS)) {
                MnistDigits.Split s = MnistDigits.split(MnistDigits.load(path), testFraction, splitSeed);
                return new Data(s.train(), s.test());
            }
            FashionMnist.Split s = FashionMnist.load(path);
            return new Data(s.train(), s.test());
        } catch (DataException e) {
            throw new UsageException(e.getMessage());
        }
    }

    String describe() {
        return kind.equals(DIGITS) ? "real MNIST digits from " + path + " (seeded split, " + Math.round(testFraction * 100)
                + "% test)" : "Fashion-MNIST from " + path;
    }
}
