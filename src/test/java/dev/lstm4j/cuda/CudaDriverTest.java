package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Driver detection through FFM: the real machine, a missing library, a wrong library, and compiled fakes. */
class CudaDriverTest {

    @Test
    void thisMachineWithoutDriverReportsNoDriverCleanly() {
        GpuDetection d = CudaDriver.detect();
        assumeFalse(d.driverFound(), "this machine has an NVIDIA driver; the no-driver path is covered by the fakes");
        assertFalse(d.gpuPresent());
        assertTrue(d.devices().isEmpty());
        assertTrue(d.reason().startsWith("no NVIDIA driver: libcuda.so.1 could not be loaded"), d.reason());
        assertEquals(0, CudaDevice.count());
    }

    @Test
    void missingLibraryIsNoDriver() {
        GpuDetection d = CudaDriver.detect("liblstm4j-no-such-driver.so.1");
        assertFalse(d.driverFound());
        assertFalse(d.gpuPresent());
        assertTrue(d.reason().contains("liblstm4j-no-such-driver.so.1 could not be loaded"), d.reason());
    }

    @Test
    void libraryWithoutDriverSymbolsIsReportedByName() {
        GpuDetection d = CudaDriver.detect("libc.so.6");
        assertFalse(d.gpuPresent());
        assertEquals("no usable NVIDIA driver: libc.so.6 lacks the symbol cuInit", d.reason());
    }

    @Test
    void fakeDriverWithTwoDevicesIsReadThroughFfm(@TempDir Path dir) throws Exception {
        Path lib = compileFake(dir, "libfakecuda.so");
        GpuDetection d = CudaDriver.detect(lib.toString());
        assertTrue(d.gpuPresent(), d.reason());
        assertEquals(12040, d.driverVersion());
        assertEquals("12.4", d.driverVersionText());
        assertEquals(List.of(
                new GpuInfo(0, "Fake GPU Alpha", 8, 6, 1L << 30),
                new GpuInfo(1, "Fake GPU Beta", 9, 0, 2L << 30)), d.devices());
        assertEquals("found 2 CUDA device(s)", d.reason());
        assertEquals("8.6", d.devices().get(0).computeCapability());
    }

    @Test
    void fakeDriverWithoutDeviceGivesTheDriversErrorNameAndText(@TempDir Path dir) throws Exception {
        Path lib = compileFake(dir, "libfakecuda_nodev.so", "-DFAKE_NO_DEVICE");
        GpuDetection d = CudaDriver.detect(lib.toString());
        assertTrue(d.driverFound());
        assertFalse(d.gpuPresent());
        assertEquals(12040, d.driverVersion());
        assertEquals("NVIDIA driver found but unusable: cuInit: CUDA_ERROR_NO_DEVICE (status 100): "
                + "no CUDA-capable device is detected", d.reason());
    }

    /** Builds the fake driver with the C compiler DESIGN.md promises on development and CI machines. */
    static Path compileFake(Path dir, String name, String... defines) throws IOException, InterruptedException {
        Path src = dir.resolve("fake_libcuda.c");
        try (InputStream in = CudaDriverTest.class.getResourceAsStream("fake_libcuda.c")) {
            Files.copy(in, src);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // compiled twice in one directory: same source
        }
        Path out = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-O0", "-o", out.toString()));
        cmd.addAll(List.of(defines));
        cmd.add(src.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler (cc) on this machine to build the fake driver: " + e.getMessage());
            throw e;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "cc did not finish");
        assertEquals(0, p.exitValue(), "cc failed: " + log);
        return out;
    }
}
