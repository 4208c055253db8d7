package dev.lstm4j.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The processor's vendor as Linux reports it ("AuthenticAMD", "GenuineIntel"); "" where it does not. */
final class CpuVendor {
    static final String AMD = "AuthenticAMD";
    private static final String VENDOR = read(Path.of("/proc/cpuinfo"));

    private CpuVendor() {}

    static String vendor() {
        return VENDOR;
    }

    /** The value of the first "vendor_id" line of a /proc/cpuinfo-like file; "" where there is none. */
    static String read(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("vendor_id") && l.indexOf(':') > 0)
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("");
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
