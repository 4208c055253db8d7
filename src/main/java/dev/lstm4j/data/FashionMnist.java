package dev.lstm4j.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Fashion-MNIST as Debian's {@code dataset-fashion-mnist} installs it: 60,000 training and 10,000 test images. */
public final class FashionMnist {
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String INSTALL = "apt-get install -y dataset-fashion-mnist";

    private FashionMnist() {}

    public record Split(ImageDataset train, ImageDataset test) {}

    /** Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from {@code dir}. */
    public static Split load(Path dir) {
        return new Split(load(dir, "train", "fashion-mnist train"), load(dir, "t10k", "fashion-mnist test"));
    }

    private static ImageDataset load(Path dir, String prefix, String name) {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        return IdxFile.images(name, IdxFile.read(images), IdxFile.read(labels), 10);
    }

    private static Path find(Path dir, String base) {
        for (String ext : new String[] {".gz", ""}) {
            Path p = dir.resolve(base + ext);
            if (Files.isRegularFile(p)) return p;
        }
        throw new DataException("Fashion-MNIST not found: " + dir.resolve(base + ".gz") + " is missing; install it with: "
                + INSTALL + (dir.equals(DEFAULT_DIR) ? "" : " (or point --data at a folder holding the four .gz files)"));
    }
}
