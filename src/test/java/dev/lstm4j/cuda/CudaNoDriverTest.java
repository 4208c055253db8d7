package dev.lstm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Without a driver, nothing in lstm4j may load a JavaCPP class (the presets link libcuda.so.1 and would fail). Each
 * test runs its code in a fresh {@link ClassLoadingProbe} and then asserts on the classes that loader had to define.
 */
class CudaNoDriverTest {

    @BeforeAll
    static void requireNoDriver() {
        assumeFalse(CudaDriver.detect().driverFound(),
                "this machine has an NVIDIA driver: the no-driver guarantees are checked on machines without one");
    }

    /** What `lstm4j info` and the dispatcher ask of the runtime when choosing a backend. */
    public static final class RuntimeQueries implements Callable<String> {
        @Override
        public String call() {
            StringBuilder sb = new StringBuilder();
            sb.append(CudaDriver.detect().reason()).append('\n');
            sb.append(CudaDevice.count()).append('\n');
            for (LibraryStatus s : CudaLibraries.all()) {
                sb.append(s).append('\n');
            }
            return sb.toString();
        }
    }

    @Test
    void detectionAndLibraryStatusLoadNoJavaCppClass() throws Exception {
        try (ClassLoadingProbe probe = new ClassLoadingProbe()) {
            String out = (String) probe.run(RuntimeQueries.class.getName());
            assertTrue(probe.definedMatching("dev.lstm4j.cuda.").contains("dev.lstm4j.cuda.CudaLibraries"),
                    "the probe saw lstm4j's classes being loaded: " + probe.definedMatching("dev.lstm4j."));
            assertEquals(List.of(), probe.definedMatching("org.bytedeco."));
            assertTrue(out.contains("cudart: not loaded: not attempted: no NVIDIA driver: libcuda.so.1"), out);
            assertTrue(out.contains("cudnn: not loaded: not attempted: no NVIDIA driver"), out);
        }
    }

    /** What a user's program and `lstm4j info` do on a machine without a GPU: discover, choose, build, run. */
    public static final class DispatchAndInfo implements Callable<String> {
        @Override
        public String call() {
            dev.lstm4j.lstm.LstmSpec spec = dev.lstm4j.lstm.LstmSpec.builder(3, 4).numLayers(2).build();
            dev.lstm4j.lstm.Dispatcher d = dev.lstm4j.lstm.Dispatcher.discover();
            StringBuilder sb = new StringBuilder();
            for (dev.lstm4j.lstm.LstmBackendProvider p : d.providers()) {
                sb.append(p.kind()).append(": ").append(p.availability()).append('\n');
            }
            sb.append(d.chooseAuto(spec, dev.lstm4j.tensor.DType.FLOAT32).choice()).append('\n');
            try (dev.lstm4j.lstm.Lstm lstm = dev.lstm4j.lstm.Lstm.builder(spec).build();
                 java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
                 dev.lstm4j.lstm.LstmOutput out = lstm.forward(dev.lstm4j.tensor.Tensor.zeros(arena,
                         dev.lstm4j.tensor.DType.FLOAT32, 2, 1, 3))) {
                sb.append(lstm.backendChoice().kind()).append('\n');
            }
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.PrintStream ps = new java.io.PrintStream(bytes, true);
            int rc = dev.lstm4j.cli.Main.run(new String[] {"info", "--bidirectional"}, ps, ps);
            sb.append("info exit ").append(rc).append('\n').append(bytes);
            return sb.toString();
        }
    }

    @Test
    void dispatchLayerAndInfoCommandLoadNoJavaCppClass() throws Exception {
        try (ClassLoadingProbe probe = new ClassLoadingProbe()) {
            String out = (String) probe.run(DispatchAndInfo.class.getName());
            assertTrue(probe.definedMatching("dev.lstm4j.").contains("dev.lstm4j.cuda.cudnn.CudnnProvider"),
                    "the probe loaded the cuDNN provider through the services file: " + probe.definedMatching("dev."));
            assertTrue(probe.definedMatching("dev.lstm4j.").contains("dev.lstm4j.cli.InfoCommand"));
            assertEquals(List.of(), probe.definedMatching("org.bytedeco."));
            assertTrue(out.contains("cudnn: Availability[available=false, hardwareAbsent=true, reason=no NVIDIA driver"),
                    out);
            assertTrue(out.contains("\nreference\ninfo exit 0\n"), out);
        }
    }

    @Test
    void theProbeDoesSeeJavaCppClassesWhenTheyAreLoaded() throws Exception {
        try (ClassLoadingProbe probe = new ClassLoadingProbe()) {
            Class.forName("org.bytedeco.cuda.global.cudart", false, probe); // loaded, not initialised: no native code
            assertFalse(probe.definedMatching("org.bytedeco.").isEmpty(),
                    "control: the probe must record JavaCPP classes, or the test above proves nothing");
        }
    }

    @Test
    void cudaDeviceRefusesWithTheDetectionReason() {
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> CudaDevice.get(0));
        assertTrue(e.getMessage().startsWith("CUDA device 0: no GPU: no NVIDIA driver"), e.getMessage());
    }
}
