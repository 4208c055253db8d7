package dev.lstm4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs {@code bible -l100000 gen1:1-rev22:21} (Debian's bible-kjv) and returns what it prints. */
final class KjvText {
    static final String INSTALL = "apt-get install -y bible-kjv";

    private KjvText() {}

    static String read() {
        String bible = null;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "bible"))) {
                bible = Path.of(dir, "bible").toString();
                break;
            }
        }
        if (bible == null) {
            throw new DataException("the King James Bible (the default corpus) needs the 'bible' program; install it with: "
                    + INSTALL + " (or pass --corpus FILE)");
        }
        try {
            Process p = new ProcessBuilder(bible, "-l100000", "gen1:1-rev22:21").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || out.length() < 1_000_000) {
                throw new DataException(bible + " -l100000 gen1:1-rev22:21 failed (exit "
                        + (p.isAlive() ? "timeout" : p.exitValue()) + ", " + out.length() + " characters); reinstall with: "
                        + INSTALL);
            }
            return out;
        } catch (IOException e) {
            throw new DataException("running " + bible + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataException("interrupted while running " + bible);
        }
    }
}
