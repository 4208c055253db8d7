package dev.lstm4j.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.lstm4j.cuda.CudaDriver;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.Lstm;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The "kernels" provider on a machine without a GPU: missing hardware, said plainly, and no JavaCPP class loaded. */
class CudaKernelsProviderTest {
    private final LstmSpec peepholes = LstmSpec.builder(3, 4).peepholes(true).build();

    private static void requireNoGpu() {
        assumeFalse(CudaDriver.gpuPresent(), "this machine has a GPU; the no-GPU behaviour is checked without one");
    }

    @Test
    void withoutAGpuItReportsMissingHardware() {
        requireNoGpu();
        LstmBackendProvider p = Dispatcher.discover().provider(BackendKind.CUDA_KERNELS).orElseThrow();
        LstmBackendProvider.Availability a = p.availability();
        assertFalse(a.available());
        assertTrue(a.hardwareAbsent(), "no GPU is the expected path, not a fall from the fast one: " + a);
        assertTrue(a.reason().startsWith("no NVIDIA GPU"), a.reason());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lstm.builder(peepholes).backend("kernels").build());
        assertTrue(e.getMessage().contains("kernels was requested but is unavailable: no NVIDIA GPU"), e.getMessage());
    }

    @Test
    void float64IsOutsideTheKernelsWithTheReason() {
        LstmBackendProvider p = new CudaKernelsProvider();
        assertEquals("lstm4j's kernels compute in float32 only, got float64 (use DType.FLOAT32, or the reference backend "
                + "for float64)", p.unsupportedReason(peepholes, DType.FLOAT64).orElseThrow());
        assertTrue(p.unsupportedReason(peepholes, DType.FLOAT32).isEmpty());
    }

    /** Dispatch as a user triggers it, run in a fresh class loader that records every class it defines. */
    public static final class AutoDispatch implements Callable<String> {
        @Override
        public String call() {
            LstmSpec spec = LstmSpec.builder(3, 4).peepholes(true).build();
            StringBuilder sb = new StringBuilder();
            for (LstmBackendProvider p : Dispatcher.discover().providers()) {
                sb.append(p.kind()).append(": ").append(p.availability()).append('\n');
            }
            try (Lstm lstm = Lstm.builder(spec).build()) {
                sb.append(lstm.backendChoice());
            }
            return sb.toString();
        }
    }

    @Test
    void withoutAGpuDispatchLoadsNoJavaCppClass() throws Exception {
        requireNoGpu();
        try (Probe probe = new Probe()) {
            Class<?> task = Class.forName(AutoDispatch.class.getName(), true, probe);
            String out = (String) task.getMethod("call").invoke(task.getDeclaredConstructor().newInstance());
            assertTrue(out.contains("kernels: Availability[available=false, hardwareAbsent=true"), out);
            assertTrue(probe.defined("dev.lstm4j.cuda.kernels.").contains("dev.lstm4j.cuda.kernels.CudaKernelsProvider"),
                    "control: the probe loaded the provider itself: " + probe.defined("dev.lstm4j."));
            assertEquals(List.of(), probe.defined("org.bytedeco."), out);
        }
    }

    /** A class loader over lstm4j's main and test classes and the JavaCPP jars, recording what it defines. */
    private static final class Probe extends URLClassLoader {
        private final Set<String> defined = ConcurrentHashMap.newKeySet();

        Probe() throws Exception {
            super("kernels-probe", new URL[] {
                CudaKernelsProviderTest.class.getProtectionDomain().getCodeSource().getLocation(),
                CudaKernelsProvider.class.getProtectionDomain().getCodeSource().getLocation(),
                jarOf("org/bytedeco/javacpp/Pointer.class"),
                jarOf("org/bytedeco/cuda/global/cudart.class"),
            }, ClassLoader.getPlatformClassLoader());
        }

        private static URL jarOf(String resource) throws Exception {
            String s = ClassLoader.getSystemResource(resource).toString(); // jar:file:/...!/org/...
            return URI.create(s.substring("jar:".length(), s.indexOf("!/"))).toURL();
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            Class<?> c = super.findClass(name);
            defined.add(name);
            return c;
        }

        List<String> defined(String prefix) {
            return defined.stream().filter(n -> n.startsWith(prefix)).sorted().toList();
        }
    }
}
