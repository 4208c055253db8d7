package dev.lstm4j.lstm;

import java.util.List;

/**
 * Which backend a layer runs on and why, including every faster backend that was passed over and the reason.
 *
 * @param requested "auto" or the label of a forced backend
 */
public record BackendChoice(BackendKind kind, String requested, String reason, List<String> passedOver) {
    public BackendChoice {
        passedOver = List.copyOf(passedOver);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind.label()).append(" (").append(requested).append("): ").append(reason);
        for (String p : passedOver) {
            sb.append("; ").append(p);
        }
        return sb.toString();
    }
}
