package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.lstm4j.cuda.CudaDriver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class InfoCommandTest {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

    private int run(String... argv) {
        return Main.run(argv, new PrintStream(outBytes, true, StandardCharsets.UTF_8),
                new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutAGpuItSaysWhyAndPicksTheCpuBackend() {
        assumeFalse(CudaDriver.gpuPresent(), "this machine has a GPU; the GPU lines are checked by hand there");
        assertEquals(0, run("info", "--layers", "2", "--bidirectional", "--proj-size", "8"));
        String o = out();
        assertTrue(o.contains("java:      " + Runtime.version()), o);
        assertTrue(o.contains("driver:    no GPU: no NVIDIA driver: libcuda.so.1 could not be loaded"), o);
        assertTrue(o.contains("  cudnn   not loaded: not attempted: no NVIDIA driver"), o);
        assertTrue(o.contains("spec:      LstmSpec[input=32, hidden=64, layers=2, proj=8, bidirectional] float32"), o);
        assertTrue(o.contains("  cudnn         unavailable (no hardware): no NVIDIA driver"), o);
        assertTrue(o.contains("  reference     available; runs this spec"), o);
        // issue 5: without a GPU, auto picks the fast CPU backend for float32 (OpenBLAS ships for this platform)
        assertTrue(o.contains("  cpu           available; runs this spec ("), o);
        assertTrue(o.contains("auto:      cpu (auto): "), o);
        assertEquals("", err());
    }

    /**
     * The cpu backend's line says what it runs with: its threads (every core by default) and where the per-step GEMMs
     * run, which depends on the JVM's vector width (the packed kernel needs 8 floats or more; the suite also passes
     * under -XX:UseAVX=0, where vectors hold 4).
     */
    @Test
    void theCpuBackendsLineSaysItsThreadsAndWhereItsGemmsRun() {
        assertEquals(0, run("info"));
        String line = out().lines().filter(l -> l.startsWith("  cpu ")).findFirst().orElseThrow();
        int cores = Runtime.getRuntime().availableProcessors();
        assertTrue(line.contains("(" + cores + (cores == 1 ? " thread; " : " threads; ")), line);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        if (lanes >= 8) {
            // the register blocks follow the vector width (NarrowBlocks below 512 bits), the slabs of k the
            // processor (PackedGemm.slabRowsFor): one of the two forms each
            String blocks = lanes >= 16 ? "blocks of 8 rows, of 5 and 6 over pairs of panels" : "blocks of 6 and 4 rows";
            assertTrue(line.matches(".*; per-step GEMMs on the packed kernel, " + lanes + "-float vectors in " + blocks
                    + ", (all of k in one slab|k in slabs of at most \\d+); OpenBLAS kernels .*"), line);
        } else {
            assertTrue(line.contains("; per-step GEMMs on OpenBLAS, as the packed kernel needs vectors of 8 floats or "
                    + "more and this JVM's hold " + lanes + "; OpenBLAS kernels "), line);
        }
        String coreType = System.getenv("OPENBLAS_CORETYPE");
        if (coreType == null || coreType.isBlank()) {
            assertFalse(line.contains("OPENBLAS_CORETYPE"), line);
        } else {
            assertTrue(line.contains(" (OPENBLAS_CORETYPE=" + coreType.strip() + " in the environment)"), line);
        }
    }

    @Test
    void aBadThreadSettingIsNamedInTheCpuBackendsLine() {
        String before = System.getProperty(dev.lstm4j.cpu.FastCpuProvider.THREADS_PROPERTY);
        System.setProperty(dev.lstm4j.cpu.FastCpuProvider.THREADS_PROPERTY, "many");
        try {
            assertEquals(0, run("info"));
        } finally {
            if (before == null) System.clearProperty(dev.lstm4j.cpu.FastCpuProvider.THREADS_PROPERTY);
            else System.setProperty(dev.lstm4j.cpu.FastCpuProvider.THREADS_PROPERTY, before);
        }
        assertTrue(out().contains("(bad setting: lstm4j.cpu.threads: expected an integer >= 1, got 'many')"), out());
    }

    @Test
    void everyDiscoveredBackendIsListed() {
        assertEquals(0, run("info", "--peepholes"));
        for (var p : dev.lstm4j.lstm.Dispatcher.discover().providers()) {
            assertTrue(out().contains("\n  " + p.kind().label() + " "), p.kind() + " missing in:\n" + out());
        }
    }

    @Test
    void badArgumentsExitTwoWithOneLine() {
        assertEquals(2, run("info", "--hidden-size", "0"));
        assertEquals("lstm4j info: hiddenSize: expected > 0, got 0\n", err());
        errBytes.reset();
        assertEquals(2, run("info", "--unknown-flag", "3"));
        assertEquals("lstm4j info: unknown option --unknown-flag\n", err());
        errBytes.reset();
        assertEquals(2, run("info", "--activations", "Sigmoid,Tanh"));
        assertEquals("lstm4j info: --activations: expected three activations F,G,H, got 'Sigmoid,Tanh'\n", err());
    }

    @Test
    void helpDescribesTheFlags() {
        assertEquals(0, run("info", "--help"));
        assertTrue(out().startsWith("usage: lstm4j info [--input-size I]"), out());
        assertTrue(out().contains("--proj-size P"));
    }

    @Test
    void activationListsKeepCommasInsideParentheses() {
        assertEquals(List.of("HardSigmoid(0.2,0.5)", "Tanh", "LeakyRelu(0.1)"),
                InfoCommand.splitTopLevel("HardSigmoid(0.2,0.5),Tanh,LeakyRelu(0.1)"));
        assertEquals(0, run("info", "--activations", "HardSigmoid(0.2,0.5),Tanh,Tanh"));
        assertTrue(out().contains("activations=HardSigmoid(0.2,0.5),Tanh,Tanh]"), out());
    }
}
