package dev.lstm4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed command-line arguments: {@code --name value}, {@code --name=value}, boolean {@code --flag}, and positional
 * words. A command declares which flags take no value; every option must be read (or declared) before
 * {@link #finish()}, which rejects unknown ones.
 */
public final class Args {
    private final Map<String, String> options = new LinkedHashMap<>();
    private final Set<String> flags = new LinkedHashSet<>();
    /** Options given last with no value: an error when read, or as unknown ones when nobody reads them. */
    private final Set<String> withoutValue = new LinkedHashSet<>();
    private final List<String> positional = new ArrayList<>();
    private final Set<String> consumed = new LinkedHashSet<>();

    private Args() {}

    /** @param booleanFlags option names (without --) that take no value */
    public static Args parse(List<String> argv, Set<String> booleanFlags) {
        Args a = new Args();
        for (int i = 0; i < argv.size(); i++) {
            String s = argv.get(i);
            if (s.startsWith("--") && s.length() > 2) {
                String name = s.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (booleanFlags.contains(name)) {
                    if (value != null) {
                        throw new UsageException("--" + name + " takes no value, got '" + value + "'");
                    }
                    a.flags.add(name);
                } else {
                    if (value == null) {
                        if (i + 1 >= argv.size()) {
                            a.withoutValue.add(name);
                            continue;
                        }
                        value = argv.get(++i);
                    }
                    if (a.options.put(name, value) != null) {
                        throw new UsageException("--" + name + " given twice");
                    }
                }
            } else {
                a.positional.add(s);
            }
        }
        return a;
    }

    public boolean flag(String name) {
        consumed.add(name);
        return flags.contains(name);
    }

    public String option(String name, String fallback) {
        consumed.add(name);
        if (withoutValue.contains(name)) {
            throw new UsageException("--" + name + " needs a value");
        }
        return options.getOrDefault(name, fallback);
    }

    public String required(String name) {
        String v = option(name, null);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    public boolean has(String name) {
        return options.containsKey(name) || flags.contains(name) || withoutValue.contains(name);
    }

    public int intOption(String name, int fallback) {
        String v = option(name, null);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected an integer, got '" + v + "'");
        }
    }

    public long longOption(String name, long fallback) {
        String v = option(name, null);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected an integer, got '" + v + "'");
        }
    }

    public double doubleOption(String name, double fallback) {
        String v = option(name, null);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected a number, got '" + v + "'");
        }
    }

    public Path pathOption(String name, Path fallback) {
        String v = option(name, null);
        return v == null ? fallback : Path.of(v);
    }

    public List<String> positional() {
        return List.copyOf(positional);
    }

    /** Rejects options nobody read. Call after reading every option. */
    public void finish() {
        for (String name : options.keySet()) {
            if (!consumed.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
        }
        for (Set<String> given : List.of(flags, withoutValue)) {
            for (String name : given) {
                if (!consumed.contains(name)) {
                    throw new UsageException("unknown option --" + name);
                }
            }
        }
    }
}
