package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The L1 data and L2 sizes from a sysfs-like cache directory, and the fallbacks where there is none. */
class CacheSizeTest {
    @Test
    void readsTheLevel2DataOrUnifiedCache(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "48K");
        index(dir, 1, "1", "Instruction", "32K");
        index(dir, 2, "2", "Unified", "2048K");
        index(dir, 3, "3", "Unified", "480M");
        assertEquals(2048L * 1024, CacheSize.readLevel(dir, 2, CacheSize.FALLBACK_BYTES));
        assertEquals(48L * 1024, CacheSize.readLevel(dir, 1, 1), "level 1: the data cache, not the instruction one");
    }

    @Test
    void readsTheLevel1DataCacheWhateverItsIndex(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Instruction", "64K");
        index(dir, 1, "1", "Data", "32K");
        assertEquals(32L * 1024, CacheSize.readLevel(dir, 1, 1));
        assertEquals(7, CacheSize.readLevel(dir, 2, 7), "no level 2 here: the fallback");
    }

    @Test
    void fallsBackWithoutSysfs(@TempDir Path dir) throws IOException {
        assertEquals(CacheSize.FALLBACK_BYTES,
                CacheSize.readLevel(dir.resolve("missing"), 2, CacheSize.FALLBACK_BYTES));
        index(dir, 0, "2", "Unified", "lots");
        assertEquals(CacheSize.FALLBACK_BYTES, CacheSize.readLevel(dir, 2, CacheSize.FALLBACK_BYTES),
                "an unreadable size falls back");
    }

    @Test
    void parsesSizes() {
        assertEquals(512L * 1024, CacheSize.parseSize("512K"));
        assertEquals(2L << 20, CacheSize.parseSize("2M"));
        assertEquals(4096, CacheSize.parseSize("4096"));
    }

    private static void index(Path dir, int i, String level, String type, String size) throws IOException {
        Path d = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(d.resolve("level"), level + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("size"), size + "\n");
    }
}
