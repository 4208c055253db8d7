package dev.lstm4j.cli;

/** A user error on the command line: printed as one line, exit status 2, no stack trace. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
