package dev.lstm4j.cli;

import java.io.PrintStream;

/** One {@code lstm4j} subcommand. */
public interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The full {@code --help} text. */
    String help();

    /** Option names (without --) that take no value. */
    default java.util.Set<String> booleanFlags() {
        return java.util.Set.of();
    }

    /** Returns the exit status; throws {@link UsageException} for bad arguments. */
    int run(Args args, PrintStream out, PrintStream err) throws Exception;
}
