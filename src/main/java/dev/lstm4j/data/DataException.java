package dev.lstm4j.data;

/**
 * A data set that is missing or unreadable. The message is one line meant for the user: for a missing data set it
 * says how to install it; for a corrupt file it names the file and what was wrong.
 */
public final class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
