#!/usr/bin/env python3
"""PyTorch's CPU LSTM on the lstm4j suite's workloads, on this machine, for a same-machine comparison.

Times what LstmBenchmark times: inference = one forward pass under no_grad; training = a forward pass plus the
backward pass of every gradient (input, h0, c0, every parameter), no optimizer step. Prints a table and, with
--csv FILE, writes one row per case. Medians of per-call wall times after a warm-up, float32.

    python3 benchmarks/pytorch/lstm_bench.py --threads 2 --csv target/benchmarks/pytorch.csv

Needs torch (Debian: apt-get install python3-torch libopenblas0-pthread). Not part of the build or the tests.
"""
import argparse
import csv
import statistics
import time

import torch

# name: (layers, input, hidden, steps, batch, bidirectional), as in dev.lstm4j.bench.Workload
WORKLOADS = {
    "seed-mnist": (1, 28, 128, 28, 128, False),
    "seed-mnist-bidirectional": (1, 28, 128, 28, 128, True),
    "ptb-small": (2, 200, 200, 20, 20, False),
    "ptb-medium": (2, 650, 650, 35, 20, False),
    "ptb-medium-bidirectional": (2, 650, 650, 35, 20, True),
    "ptb-large": (2, 1500, 1500, 35, 20, False),
    "large-batch": (1, 256, 512, 100, 64, False),
}


def forward_flops(layers, inp, hidden, steps, batch, bidi):
    dirs = 2 if bidi else 1
    total = 0.0
    for layer in range(layers):
        width = inp if layer == 0 else dirs * hidden
        total += dirs * 2.0 * 4 * hidden * (width + hidden) * batch * steps
    return total


def time_case(fn, warmup_s, measure_s):
    end = time.perf_counter() + warmup_s
    while time.perf_counter() < end:
        fn()
    samples = []
    end = time.perf_counter() + measure_s
    while time.perf_counter() < end or len(samples) < 5:
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), min(samples), len(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="seed-mnist,ptb-small,ptb-medium,large-batch")
    parser.add_argument("--modes", default="inference,training")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=6.0, help="seconds of untimed calls per case")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of timed calls per case")
    parser.add_argument("--csv", help="write the results to this CSV file")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"{'workload':26s} {'mode':10s} {'median ms':>10s} {'min ms':>9s} {'GFLOP/s':>8s} {'n':>5s}")
    for name in args.workloads.split(","):
        layers, inp, hidden, steps, batch, bidi = WORKLOADS[name]
        lstm = torch.nn.LSTM(inp, hidden, num_layers=layers, bidirectional=bidi)
        dirs = 2 if bidi else 1
        x = torch.randn(steps, batch, inp)
        h0 = torch.zeros(dirs * layers, batch, hidden)
        c0 = torch.zeros(dirs * layers, batch, hidden)
        for mode in args.modes.split(","):
            if mode == "inference":
                def step():
                    with torch.no_grad():
                        lstm(x, (h0, c0))
            else:
                xg, h0g, c0g = (t.clone().requires_grad_(True) for t in (x, h0, c0))
                dy = torch.ones(steps, batch, dirs * hidden)

                def step():
                    y, _ = lstm(xg, (h0g, c0g))
                    inputs = [xg, h0g, c0g, *lstm.parameters()]
                    torch.autograd.grad(y, inputs, dy)
            median, low, n = time_case(step, args.warmup, args.seconds)
            flops = forward_flops(layers, inp, hidden, steps, batch, bidi) * (3 if mode == "training" else 1)
            gflops = flops / (median * 1e-3) / 1e9
            print(f"{name:26s} {mode:10s} {median:10.3f} {low:9.3f} {gflops:8.1f} {n:5d}", flush=True)
            rows.append(dict(workload=name, mode=mode, threads=args.threads, median_ms=f"{median:.4f}",
                             min_ms=f"{low:.4f}", gflops=f"{gflops:.2f}", samples=n,
                             torch=torch.__version__))
    if args.csv:
        with open(args.csv, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
