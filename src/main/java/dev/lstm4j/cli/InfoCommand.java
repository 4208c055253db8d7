package dev.lstm4j.cli;

import dev.lstm4j.cuda.CudaDriver;
import dev.lstm4j.cuda.CudaLibraries;
import dev.lstm4j.cuda.GpuDetection;
import dev.lstm4j.cuda.GpuInfo;
import dev.lstm4j.cuda.LibraryStatus;
import dev.lstm4j.cpu.FastCpuProvider;
import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.Dispatcher;
import dev.lstm4j.lstm.LstmBackendProvider;
import dev.lstm4j.lstm.LstmSpec;
import dev.lstm4j.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * {@code lstm4j info}: the versions, the driver and GPUs (found through FFM, without loading JavaCPP when there is no
 * driver), whether the CUDA libraries loaded, every backend provider on the class path with its availability, and
 * which backend {@code auto} would pick for a spec given by flags.
 */
final class InfoCommand implements Command {
    /** The CUDA version the JavaCPP presets in the pom were built for; the driver must support at least this. */
    static final String PRESETS_CUDA = "12.6";

    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "show the JDK, the GPU and driver, the CUDA libraries, the backends, and what auto would pick";
    }

    @Override
    public String help() {
        return """
                usage: lstm4j info [--input-size I] [--hidden-size H] [--layers L] [--bidirectional]
                                   [--proj-size P] [--peepholes] [--input-forget] [--activations F,G,H]
                                   [--clip C] [--cell-clip C] [--dropout P] [--batch-first]
                                   [--dtype float32|float64]
                Prints the lstm4j and JDK versions; whether an NVIDIA driver and GPU were found (device
                name, compute capability, memory, driver version) or why not; whether the CUDA runtime,
                cuBLAS and cuDNN loaded (or why not); each backend with its availability and whether it
                can run the spec; and the backend `auto` would pick for the spec, with the reasons.
                The spec defaults to I=32, H=64, one layer, float32. --activations takes ONNX names,
                e.g. Sigmoid,Tanh,Tanh or HardSigmoid(0.2,0.5),Tanh,Tanh.""";
    }

    @Override
    public Set<String> booleanFlags() {
        return Set.of("bidirectional", "peepholes", "input-forget", "batch-first");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        LstmSpec.Builder b = LstmSpec.builder(args.intOption("input-size", 32), args.intOption("hidden-size", 64))
                .numLayers(args.intOption("layers", 1))
                .bidirectional(args.flag("bidirectional"))
                .projSize(args.intOption("proj-size", 0))
                .peepholes(args.flag("peepholes"))
                .inputForget(args.flag("input-forget"))
                .clip(args.doubleOption("clip", Double.NaN))
                .cellClip(args.doubleOption("cell-clip", Double.NaN))
                .dropout(args.doubleOption("dropout", 0))
                .batchFirst(args.flag("batch-first"));
        String activations = args.option("activations", null);
        if (activations != null) {
            List<String> parts = splitTopLevel(activations);
            if (parts.size() != 3) {
                throw new UsageException("--activations: expected three activations F,G,H, got '" + activations + "'");
            }
            b.activations(Activation.parse(parts.get(0)), Activation.parse(parts.get(1)), Activation.parse(parts.get(2)));
        }
        DType dtype = DType.parse(args.option("dtype", "float32"));
        args.finish();
        LstmSpec spec = b.build();

        out.println("lstm4j:    " + version());
        Runtime.Version v = Runtime.version();
        out.println("java:      " + v + " (" + System.getProperty("java.vendor") + ") at " + System.getProperty("java.home"));
        out.println("os:        " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");

        GpuDetection gpu = CudaDriver.detect();
        if (gpu.gpuPresent()) {
            out.println("driver:    NVIDIA driver for CUDA " + gpu.driverVersionText() + ", " + gpu.devices().size()
                    + " device(s)" + (gpu.driverVersion() < 12000 ? "; too old: the presets need CUDA " + PRESETS_CUDA
                    + " (a driver for CUDA 12.0 or newer, with minor-version compatibility)" : ""));
            for (GpuInfo g : gpu.devices()) {
                out.printf("           cuda:%d %s, compute capability %s, %.1f GiB%n", g.ordinal(), g.name(),
                        g.computeCapability(), g.totalMemoryBytes() / (1024.0 * 1024 * 1024));
            }
        } else {
            out.println("driver:    no GPU: " + gpu.reason());
        }
        out.println("libraries: (JavaCPP CUDA presets for CUDA " + PRESETS_CUDA + ", loaded only when a GPU is present)");
        for (LibraryStatus s : CudaLibraries.all()) {
            out.printf("  %-7s %s%n", s.library(), s.loaded() ? s.version() + " loaded" : "not loaded: " + s.reason());
        }

        Dispatcher dispatcher = Dispatcher.discover();
        out.println("spec:      " + spec + " " + dtype);
        out.println("backends:  (in the order auto prefers them)");
        for (LstmBackendProvider p : dispatcher.providers()) {
            LstmBackendProvider.Availability a = p.availability();
            String line;
            if (!a.available()) {
                line = "unavailable" + (a.hardwareAbsent() ? " (no hardware)" : "") + ": " + a.reason();
            } else {
                Optional<String> why = p.unsupportedReason(spec, dtype);
                line = why.map(r -> "available; cannot run this spec: " + r).orElse("available; runs this spec");
                if (p.kind() == BackendKind.CPU) {
                    line += " (" + cpuSettings() + ")";
                }
            }
            out.printf("  %-13s %s%s%n", p.kind().label(), line, p.kind().autoPickable() ? "" : " [never picked by auto]");
        }
        try {
            out.println("auto:      " + dispatcher.chooseAuto(spec, dtype).choice());
        } catch (IllegalStateException e) {
            out.println("auto:      none: " + e.getMessage());
            return 1;
        }
        return 0;
    }

    /** "A(1,2),B,C" -> [A(1,2), B, C]: commas inside parentheses belong to the activation. */
    static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** The version Maven recorded in the jar, or "development build" when run from classes. */
    static String version() {
        String v = InfoCommand.class.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        try (InputStream in = InfoCommand.class.getResourceAsStream("/META-INF/maven/dev.lstm4j/lstm4j/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "development build (not run from lstm4j.jar)";
    }

    /** The cpu backend's threads and kernels, or what is wrong with their settings. */
    private static String cpuSettings() {
        try {
            return FastCpuProvider.defaultSettings();
        } catch (IllegalArgumentException e) {
            return "bad setting: " + e.getMessage();
        }
    }
}
