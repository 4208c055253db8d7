package dev.lstm4j.cuda;

/** One CUDA device as the driver describes it. */
public record GpuInfo(int ordinal, String name, int computeMajor, int computeMinor, long totalMemoryBytes) {

    /** "8.0" style compute capability. */
    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " " + name + " (compute " + computeCapability() + ", "
                + String.format("%.1f GiB", totalMemoryBytes / (1024.0 * 1024 * 1024)) + ")";
    }
}
