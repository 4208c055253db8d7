package dev.lstm4j.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The L1 data and L2 caches of one core, as Linux reports them (sysfs); {@value #FALLBACK_L1_BYTES} and
 * {@value #FALLBACK_BYTES} bytes where it does not.
 */
final class CacheSize {
    static final long FALLBACK_L1_BYTES = 32L << 10;
    static final long FALLBACK_BYTES = 1L << 20;
    private static final Path SYSFS = Path.of("/sys/devices/system/cpu/cpu0/cache");
    private static final long L1 = readLevel(SYSFS, 1, FALLBACK_L1_BYTES);
    private static final long L2 = readLevel(SYSFS, 2, FALLBACK_BYTES);

    private CacheSize() {}

    static long l1DataBytes() {
        return L1;
    }

    static long l2Bytes() {
        return L2;
    }

    /**
     * The size of the data or unified cache of the given level under a sysfs cache directory (index0, index1, ...);
     * fallback where there is none or it cannot be read.
     */
    static long readLevel(Path cacheDir, int level, long fallback) {
        for (int i = 0; i < 8; i++) {
            Path index = cacheDir.resolve("index" + i);
            try {
                if (!Files.isDirectory(index)) continue;
                String l = Files.readString(index.resolve("level")).trim();
                String type = Files.readString(index.resolve("type")).trim();
                if (l.equals(Integer.toString(level)) && !type.equals("Instruction")) {
                    return parseSize(Files.readString(index.resolve("size")).trim());
                }
            } catch (IOException | RuntimeException e) {
                return fallback;
            }
        }
        return fallback;
    }

    /** "2048K", "2M" or a plain byte count. */
    static long parseSize(String text) {
        long unit = switch (text.isEmpty() ? ' ' : Character.toUpperCase(text.charAt(text.length() - 1))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = unit == 1 ? text : text.substring(0, text.length() - 1);
        return Long.parseLong(digits) * unit;
    }
}
