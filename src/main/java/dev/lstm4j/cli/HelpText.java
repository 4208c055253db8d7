package dev.lstm4j.cli;

/** Layout rules for {@code --help} texts, and the wrapping of text built at run time to fit them. */
final class HelpText {
    /** The widest line a help text may have. */
    static final int WIDTH = 110;

    private HelpText() {}

    /**
     * prefix, then the words of text in lines of at most {@link #WIDTH} characters, each line after the first
     * starting with indent (a single word longer than a line stays whole).
     */
    static String wrap(String prefix, String text, String indent) {
        StringBuilder out = new StringBuilder(prefix);
        int column = prefix.length();
        boolean lineEmpty = true;
        for (String word : text.strip().split("\\s+")) {
            if (!lineEmpty && column + 1 + word.length() > WIDTH) {
                out.append('\n').append(indent);
                column = indent.length();
                lineEmpty = true;
            }
            if (!lineEmpty) {
                out.append(' ');
                column++;
            }
            out.append(word);
            column += word.length();
            lineEmpty = false;
        }
        return out.toString();
    }
}
