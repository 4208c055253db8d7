package dev.lstm4j.cli;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The page {@code lstm4j compare --report} writes: the inputs, the timings as bars, one error table per backend. */
final class HtmlReport {
    private HtmlReport() {}

    static String render(RunInputs in, List<BackendRun> runs, List<Comparison> comparisons, boolean backward,
                         WarmupPolicy warmup, String timingNote, String rule, String verdict) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lstm4j compare</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}")
                .append("table{border-collapse:collapse;margin:0.5em 0 1.5em}")
                .append("th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right;font-variant-numeric:tabular-nums}")
                .append("th{background:#f3f3f3}td.l,th.l{text-align:left}td.ok{color:#176b2c}td.bad{color:#fff;background:#b3261e}")
                .append(".bar{display:inline-block;height:0.8em;background:#4a78c2;vertical-align:middle}")
                .append(".bar.b{background:#d08a2c}code{background:#f5f5f5;padding:0 0.2em}")
                .append("</style></head><body>\n");
        h.append("<h1>lstm4j compare</h1>\n<p>").append(esc(verdict)).append("</p>\n<ul>")
                .append("<li>weights: <code>").append(esc(in.weightsPath.toString())).append("</code> (")
                .append(esc(in.weights.format().label())).append(")</li>")
                .append("<li>spec: <code>").append(esc(in.spec.toString())).append("</code></li>")
                .append("<li>inputs: T=").append(in.seqLength()).append(", B=").append(in.batch())
                .append(in.lengths != null ? ", variable lengths" : "").append(in.h0 != null ? ", given h0/c0" : "")
                .append("</li><li>").append(backward ? "gradients of " + esc(in.lossDescription()) : "forward only")
                .append("</li><li>generated ").append(Instant.now()).append(" on Java ")
                .append(esc(System.getProperty("java.version"))).append(", ")
                .append(esc(System.getProperty("os.name") + " " + System.getProperty("os.arch"))).append(", ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPUs</li></ul>\n");

        h.append("<h2>Time per backend</h2>\n<p>").append(esc(timingNote))
                .append("; * marks the baseline.</p>\n<table><tr><th class=\"l\">backend</th>")
                .append("<th>forward ms</th>").append(backward ? "<th>backward ms</th>" : "")
                .append("<th class=\"l\"><span class=\"bar\" style=\"width:1em\"></span> forward")
                .append(backward ? " <span class=\"bar b\" style=\"width:1em\"></span> backward" : "")
                .append("</th><th class=\"l\">warm-up</th><th class=\"l\">picked</th></tr>\n");
        double max = 0;
        for (BackendRun r : runs) max = Math.max(max, r.forwardMs + (backward ? r.backwardMs : 0));
        for (BackendRun r : runs) {
            h.append("<tr><td class=\"l\">").append(esc(r.label())).append(r == runs.getFirst() ? " *" : "").append("</td><td>")
                    .append(fmt("%.2f", r.forwardMs)).append("</td>");
            if (backward) h.append("<td>").append(fmt("%.2f", r.backwardMs)).append("</td>");
            h.append("<td class=\"l\" style=\"min-width:16em\"><span class=\"bar\" style=\"width:")
                    .append(fmt("%.1f", max > 0 ? 15 * r.forwardMs / max : 0)).append("em\" title=\"forward\"></span>");
            if (backward) {
                h.append("<span class=\"bar b\" style=\"width:").append(fmt("%.1f", max > 0 ? 15 * r.backwardMs / max : 0))
                        .append("em\" title=\"backward\"></span>");
            }
            h.append("</td><td class=\"l\">").append(esc(warmup.describe(r.warmup))).append("</td><td class=\"l\">")
                    .append(esc(r.choice)).append("</td></tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>Errors against the baseline</h2>\n<p>Tolerance: ").append(esc(rule))
                .append(". Max rel err is max |a - b| / max |b| over the tensor.</p>\n");
        for (Comparison c : comparisons) {
            h.append("<h3>").append(esc(c.candidate().label())).append(" vs ").append(esc(c.baseline().label()))
                    .append(c.passes() ? "" : " &mdash; " + c.failures() + " beyond tolerance").append("</h3>\n")
                    .append("<table><tr><th class=\"l\">tensor</th><th class=\"l\">shape</th><th>max abs err</th>")
                    .append("<th>max rel err</th><th>tolerance</th><th>used</th><th class=\"l\"></th></tr>\n");
            for (Comparison.Row r : c.rows()) {
                h.append("<tr><td class=\"l\">").append(esc(r.tensor())).append("</td><td class=\"l\">")
                        .append(esc(r.shape().toString())).append("</td><td>").append(fmt("%.3e", r.maxAbs()))
                        .append("</td><td>").append(fmt("%.3e", r.maxRel())).append("</td><td>")
                        .append(fmt("%.3e", r.tolerance())).append("</td><td>").append(fmt("%.1f%%", 100 * r.worst()))
                        .append("</td><td class=\"").append(r.passes() ? "ok l\">ok" : "bad l\">BEYOND").append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
