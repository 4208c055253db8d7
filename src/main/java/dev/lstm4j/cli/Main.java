package dev.lstm4j.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code lstm4j} command: {@code lstm4j <command> [options]}; {@code lstm4j <command> --help}. */
public final class Main {
    /** Every subcommand, in the order {@code lstm4j --help} lists them. Add new ones here. */
    static List<Command> commands() {
        return List.of(new ExampleCommand(), new InfoCommand(), new ForwardCommand(), new CompareCommand(),
                new BenchCommand(), new TrainCommand(), new EvalCommand(), new SampleCommand());
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : commands()) {
            byName.put(c.name(), c);
        }
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.println("usage: lstm4j <command> [options]   (lstm4j <command> --help for its options)");
            out.println();
            for (Command c : byName.values()) {
                out.printf("  %-10s %s%n", c.name(), c.summary());
            }
            return argv.length == 0 ? 2 : 0;
        }
        Command c = byName.get(argv[0]);
        if (c == null) {
            err.println("lstm4j: unknown command '" + argv[0] + "' (expected one of " + byName.keySet() + ")");
            return 2;
        }
        List<String> rest = Arrays.asList(argv).subList(1, argv.length);
        if (rest.contains("--help") || rest.contains("-h")) {
            out.println(c.help());
            return 0;
        }
        try {
            return c.run(Args.parse(rest, c.booleanFlags()), out, err);
        } catch (UsageException | IllegalArgumentException e) {
            err.println("lstm4j " + c.name() + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("lstm4j " + c.name() + ": failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
