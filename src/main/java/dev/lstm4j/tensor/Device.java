package dev.lstm4j.tensor;

/** Where a tensor's memory lives: the host, or the CUDA device with the given ordinal. */
public record Device(Kind kind, int ordinal) {
    public enum Kind { HOST, CUDA }

    public static final Device HOST = new Device(Kind.HOST, 0);

    public Device {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal: expected >= 0, got " + ordinal);
        }
    }

    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }

    public boolean isHost() {
        return kind == Kind.HOST;
    }

    @Override
    public String toString() {
        return isHost() ? "host" : "cuda:" + ordinal;
    }
}
