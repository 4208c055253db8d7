package dev.lstm4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/lstm4j, the launcher, in a scratch copy of the checkout's layout: it says so when the jar it would run is older
 * than the sources, and says nothing when the jar is newer. The jar here is an empty file, so the JVM it starts fails
 * at once; only the launcher's own words on standard error are checked.
 */
class LauncherScriptTest {
    private static final String WARNING = "is older than the sources";

    @Test
    void warnsWhenTheJarIsOlderThanTheSources(@TempDir Path root) throws Exception {
        Path jar = layout(root);
        Path source = root.resolve("src/main/java/A.java");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(3600)));
        Files.setLastModifiedTime(source, FileTime.from(Instant.now()));
        assertTrue(launcherStderr(root).contains(WARNING));
    }

    @Test
    void isQuietWhenTheJarIsNewer(@TempDir Path root) throws Exception {
        Path jar = layout(root);
        Path source = root.resolve("src/main/java/A.java");
        Files.setLastModifiedTime(source, FileTime.from(Instant.now().minusSeconds(3600)));
        Files.setLastModifiedTime(root.resolve("pom.xml"), FileTime.from(Instant.now().minusSeconds(3600)));
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));
        String err = launcherStderr(root);
        assertFalse(err.contains(WARNING), err);
        assertFalse(err.contains("needs a JDK"), "the test's own JDK should be found: " + err);
    }

    /** bin/ (the real scripts), an empty target/lstm4j.jar, one source file and a pom.xml under root. */
    private static Path layout(Path root) throws Exception {
        Path bin = Files.createDirectories(root.resolve("bin"));
        for (String script : new String[] {"lstm4j", "find-java"}) {
            Path copy = bin.resolve(script);
            Files.copy(Path.of("bin", script), copy);
            copy.toFile().setExecutable(true);
        }
        Files.createDirectories(root.resolve("src/main/java"));
        Files.writeString(root.resolve("src/main/java/A.java"), "class A {}\n");
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Path jar = Files.createDirectories(root.resolve("target")).resolve("lstm4j.jar");
        Files.write(jar, new byte[0]);
        return jar;
    }

    private static String launcherStderr(Path root) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bin/lstm4j").toString(), "info");
        String java = ProcessHandle.current().info().command().orElseThrow();
        pb.environment().put("LSTM4J_JAVA", java);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process process = pb.start();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        return err;
    }
}
