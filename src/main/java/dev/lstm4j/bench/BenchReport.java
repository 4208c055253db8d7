package dev.lstm4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes benchmark results as a console table, CSV, JSON and an HTML page with an SVG bar chart (GFLOP/s per
 * workload and mode, one bar per backend and thread count), with the conditions they were measured under.
 */
public final class BenchReport {
    private final List<BenchResult> results;
    private final String conditions;

    public BenchReport(List<BenchResult> results, String conditions) {
        this.results = List.copyOf(results);
        this.conditions = conditions;
    }

    /** Cores, CPU model, load average, JVM: what a reader needs to judge the figures. */
    public static String machineConditions() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: keep "unknown CPU"
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        String cpuBackend = "cpu backend by default: " + dev.lstm4j.cpu.FastCpuProvider.defaultSettings();
        return String.format(Locale.ROOT, "%s, %d cores, load average %.2f at start, Java %s, %s, %s",
                cpu, Runtime.getRuntime().availableProcessors(), load, Runtime.version(), cpuBackend, Instant.now());
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-28s %-10s %-10s %7s %12s %12s %10s %8s%n", "workload", "mode",
                "backend", "threads", "median ms", "min ms", "GFLOP/s", "samples"));
        for (BenchResult r : results) {
            sb.append(String.format(Locale.ROOT, "%-28s %-10s %-10s %7d %12.3f %12.3f %10.1f %8d%n",
                    r.workload().name(), r.mode(), r.backend(), r.threads(), r.medianMs(), r.minMs(), r.gflops(),
                    r.samples()));
        }
        return sb.toString();
    }

    public String csv() {
        StringBuilder sb = new StringBuilder(
                "workload,layers,input,hidden,seq_length,batch,bidirectional,peepholes,mode,backend,threads,"
                        + "median_ms,min_ms,gflops,samples\n");
        for (BenchResult r : results) {
            Workload w = r.workload();
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%d,%b,%b,%s,%s,%d,%.4f,%.4f,%.2f,%d%n",
                    w.name(), w.layers(), w.inputSize(), w.hiddenSize(), w.seqLength(), w.batch(), w.bidirectional(),
                    w.peepholes(), r.mode(), r.backend(), r.threads(), r.medianMs(), r.minMs(), r.gflops(),
                    r.samples()));
        }
        return sb.toString();
    }

    public String json() {
        StringBuilder sb = new StringBuilder("{\n  \"conditions\": ").append(quote(conditions))
                .append(",\n  \"results\": [");
        for (int i = 0; i < results.size(); i++) {
            BenchResult r = results.get(i);
            Workload w = r.workload();
            sb.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"workload\": %s, \"layers\": %d, \"input\": %d, \"hidden\": %d, \"seq_length\": %d, "
                            + "\"batch\": %d, \"bidirectional\": %b, \"peepholes\": %b, \"mode\": %s, "
                            + "\"backend\": %s, \"threads\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, "
                            + "\"gflops\": %.2f, \"samples\": %d}",
                    quote(w.name()), w.layers(), w.inputSize(), w.hiddenSize(), w.seqLength(), w.batch(),
                    w.bidirectional(), w.peepholes(), quote(r.mode().label()), quote(r.backend()), r.threads(),
                    r.medianMs(), r.minMs(), r.gflops(), r.samples()));
        }
        return sb.append("\n  ]\n}\n").toString();
    }

    /** An HTML page: one group of horizontal bars (GFLOP/s, longer is faster) per workload and mode, and a table. */
    public String html(String title) {
        Map<String, List<BenchResult>> groups = new LinkedHashMap<>();
        double maxGflops = 1;
        for (BenchResult r : results) {
            groups.computeIfAbsent(r.workload().name() + " · " + r.mode(), k -> new ArrayList<>()).add(r);
            maxGflops = Math.max(maxGflops, r.gflops());
        }
        int labelW = 260;
        int barW = 520;
        int rowH = 20;
        int groupGap = 26;
        int height = 30;
        for (List<BenchResult> g : groups.values()) height += groupGap + g.size() * rowH;
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                        + "font-size=\"12\">%n", labelW + barW + 200, height));
        int y = 20;
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">GFLOP/s (longer is "
                + "faster); label: median ms per step</text>%n", labelW, y - 4));
        for (Map.Entry<String, List<BenchResult>> g : groups.entrySet()) {
            y += groupGap;
            svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\" font-weight=\"bold\">%s</text>%n",
                    y - 6, escape(g.getKey())));
            for (BenchResult r : g.getValue()) {
                double w = Math.max(1, barW * r.gflops() / maxGflops);
                svg.append(String.format(Locale.ROOT,
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s, %d thread%s</text>%n"
                                + "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n"
                                + "<text x=\"%.1f\" y=\"%d\">%.1f GFLOP/s · %.2f ms</text>%n",
                        labelW - 8, y + rowH - 6, escape(r.backend()), r.threads(), r.threads() == 1 ? "" : "s",
                        labelW, y + 2, w, rowH - 4, color(r.backend(), r.threads()),
                        labelW + w + 6, y + rowH - 6, r.gflops(), r.medianMs()));
                y += rowH;
            }
        }
        svg.append("</svg>\n");
        StringBuilder rows = new StringBuilder();
        for (BenchResult r : results) {
            rows.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td>"
                            + "<td>%.3f</td><td>%.3f</td><td>%.1f</td><td>%d</td></tr>%n",
                    escape(r.workload().name()), escape(r.workload().shape()), r.mode(), escape(r.backend()),
                    r.threads(), r.medianMs(), r.minMs(), r.gflops(), r.samples()));
        }
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>\n"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>\n"
                + "<h1>" + escape(title) + "</h1>\n<p>" + escape(conditions) + "</p>\n"
                + "<p>FLOPs per step: forward = 2·4H·(I+H)·B·T per layer and direction; training step (forward + "
                + "backward of every gradient) = 3 × forward.</p>\n" + svg
                + "<table><tr><th>workload</th><th>shape</th><th>mode</th><th>backend</th><th>threads</th>"
                + "<th>median ms</th><th>min ms</th><th>GFLOP/s</th><th>samples</th></tr>\n" + rows
                + "</table>\n</body></html>\n";
    }

    /** Writes results.csv, results.json and results.html into {@code dir}; returns the HTML path. */
    public Path writeAll(Path dir, String title) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.csv"), csv());
        Files.writeString(dir.resolve("results.json"), json());
        Path html = dir.resolve("results.html");
        Files.writeString(html, html(title));
        return html;
    }

    private static String color(String backend, int threads) {
        return switch (backend) {
            case "cpu" -> threads == 1 ? "#6baed6" : "#2171b5";
            case "reference" -> "#bdbdbd";
            case "cudnn" -> "#31a354";
            case "kernels" -> "#e6550d";
            default -> "#9e9ac8";
        };
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
