package dev.lstm4j.cuda;

import java.util.List;

/**
 * What the driver said: whether {@code libcuda.so.1} was found and initialised, its CUDA version, and the devices.
 *
 * @param driverFound   libcuda was found and {@code cuInit} succeeded
 * @param driverVersion the driver's CUDA version as {@code cuDriverGetVersion} reports it (12040 = 12.4), 0 if unknown
 * @param reason        why there is no usable GPU, or "found N device(s)"
 */
public record GpuDetection(boolean driverFound, int driverVersion, List<GpuInfo> devices, String reason) {
    public GpuDetection {
        devices = List.copyOf(devices);
    }

    static GpuDetection none(String reason) {
        return new GpuDetection(false, 0, List.of(), reason);
    }

    /** A driver and at least one device. */
    public boolean gpuPresent() {
        return driverFound && !devices.isEmpty();
    }

    /** "12.4" for 12040. */
    public String driverVersionText() {
        return driverVersion == 0 ? "unknown" : (driverVersion / 1000) + "." + (driverVersion % 1000) / 10;
    }
}
