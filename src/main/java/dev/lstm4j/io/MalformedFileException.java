package dev.lstm4j.io;

import java.nio.file.Path;

/**
 * A file that does not hold what its format promises (a header that lies about sizes, offsets or types). It is a
 * user error: the command line prints its one-line message and exits with status 2.
 */
public final class MalformedFileException extends IllegalArgumentException {
    public MalformedFileException(Path file, String message) {
        super(file + ": " + message);
    }
}
