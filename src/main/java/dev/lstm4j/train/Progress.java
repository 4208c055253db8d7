package dev.lstm4j.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress through one epoch. On a terminal: a bar redrawn in place (at most 5 times a second) with the running loss,
 * throughput and ETA. Otherwise: a plain line every {@code plainEverySeconds} seconds, so that logs stay readable.
 */
public final class Progress {
    private final PrintStream err;
    private final boolean terminal;
    private final double plainEverySeconds;
    private final String label;
    private final long total;
    private final String unit;
    private final long start = System.nanoTime();
    private long lastDraw = start;
    private boolean drawn;

    public Progress(PrintStream err, boolean terminal, double plainEverySeconds, String label, long total, String unit) {
        this.err = err;
        this.terminal = terminal;
        this.plainEverySeconds = plainEverySeconds;
        this.label = label;
        this.total = total;
        this.unit = unit;
    }

    /**
     * Whether standard error is a terminal, as the launcher tells with {@code -Dlstm4j.stderr.tty=true|false};
     * without it, whether the JVM has an interactive console.
     */
    public static boolean stderrIsTerminal() {
        String p = System.getProperty("lstm4j.stderr.tty");
        if (p != null) return Boolean.parseBoolean(p);
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** {@code done} of {@code total} items (samples or tokens), with the mean loss so far. */
    public void update(long done, double runningLoss) {
        long now = System.nanoTime();
        double sinceDraw = (now - lastDraw) / 1e9;
        if (terminal ? sinceDraw < 0.2 && done < total : sinceDraw < plainEverySeconds) return;
        lastDraw = now;
        double elapsed = (now - start) / 1e9;
        double rate = done / Math.max(elapsed, 1e-9);
        double eta = rate > 0 ? (total - done) / rate : 0;
        if (terminal) {
            int width = 30;
            int filled = (int) Math.min(width, width * done / Math.max(1, total));
            err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d  loss %.4f  %.0f %s/s  ETA %s ", label, "=".repeat(filled),
                    " ".repeat(width - filled), done, total, runningLoss, rate, unit, clock(eta));
            drawn = true;
        } else {
            err.printf(Locale.ROOT, "%s %d/%d (%.0f%%)  loss %.4f  %.0f %s/s  ETA %s%n", label, done, total,
                    100.0 * done / Math.max(1, total), runningLoss, rate, unit, clock(eta));
        }
        err.flush();
    }

    /** Ends the bar's line (terminal only). */
    public void finish() {
        if (terminal && drawn) {
            err.print("\r" + " ".repeat(100) + "\r");
            err.flush();
        }
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
