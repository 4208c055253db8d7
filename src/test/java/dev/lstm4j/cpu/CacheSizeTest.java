package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The L2 size from a sysfs-like cache directory, and the fallback where there is none. */
class CacheSizeTest {
    @Test
    void readsTheLevel2DataOrUnifiedCache(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "48K");
        index(dir, 1, "1", "Instruction", "32K");
        index(dir, 2, "2", "Unified", "2048K");
        index(dir, 3, "3", "Unified", "480M");
        assertEquals(2048L * 1024, CacheSize.readL2(dir));
    }

    @Test
    void fallsBackWithoutSysfs(@TempDir Path dir) throws IOException {
        assertEquals(CacheSize.FALLBACK_BYTES, CacheSize.readL2(dir.resolve("missing")));
        index(dir, 0, "2", "Unified", "lots");
        assertEquals(CacheSize.FALLBACK_BYTES, CacheSize.readL2(dir), "an unreadable size falls back");
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
