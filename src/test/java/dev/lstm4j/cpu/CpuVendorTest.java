package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vendor from a /proc/cpuinfo-like file, and "" where there is none. */
class CpuVendorTest {
    @Test
    void readsTheFirstVendorLine(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                cpu family\t: 26

                processor\t: 1
                vendor_id\t: GenuineIntel
                """);
        assertEquals(CpuVendor.AMD, CpuVendor.read(cpuinfo));
    }

    @Test
    void isEmptyWithoutAVendorLine(@TempDir Path dir) throws IOException {
        assertEquals("", CpuVendor.read(dir.resolve("missing")));
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, "processor\t: 0\nCPU implementer\t: 0x41\n");
        assertEquals("", CpuVendor.read(cpuinfo), "an Arm cpuinfo has no vendor_id");
    }
}
