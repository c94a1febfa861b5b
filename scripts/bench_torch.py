#!/usr/bin/env python3
"""PyTorch reference timings for `mtag bench nn` (same layer shapes, same thread count).

Reads the case list that mtag writes (JSON: {"threads": T, "repeats": R, "memory": M, "cases": [...]}) and prints one
JSON line per case: {"name", "batch", "forward_ms", "backward_ms", and the same as process CPU time
"forward_cpu_ms", "backward_cpu_ms"} (best of R runs after one warm-up),
and for the "train_step" case also "peak_mb" (peak resident memory of two training steps above the
resident size before the model was built; measured first, via /proc/self/clear_refs + VmHWM; skipped
when M is false, as in mtag's later passes).
Exit code 3 when torch cannot be imported (the bench then tries another interpreter or skips).

Run by hand: python3 scripts/bench_torch.py --cases cases.json
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # noqa: F841
    print("bench_torch.py: torch is not importable with " + sys.executable, file=sys.stderr)
    sys.exit(3)


def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class GlobalMax(nn.Module):
    def forward(self, x):
        return x.amax(dim=(2, 3))


class GruSequence(nn.Module):
    """torch.nn.GRU, batch first, returning the output of every step (mtag's GRU with return_sequences)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)

    def forward(self, x):
        return self.gru(x)[0]


def build(case):
    k = case["kind"]
    if k == "conv2d":
        return nn.Conv2d(case["cin"], case["cout"], tuple(case["kernel"]), stride=tuple(case["stride"]),
                         padding=tuple(case["padding"]))
    if k == "conv1d":
        return nn.Conv1d(case["cin"], case["cout"], case["kernel"][1], stride=case["stride"][1],
                         padding=case["padding"][1])
    if k == "bn2d":
        return nn.BatchNorm2d(case["cin"])
    if k == "maxpool2d":
        return nn.MaxPool2d(tuple(case["kernel"]))
    if k == "gru":  # cin = input_size, cout = hidden_size, w = time steps
        return GruSequence(case["cin"], case["cout"])
    if k == "train_step":
        c = case["cout"]
        return nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d((2, 4)),
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d((2, 4)),
            GlobalMax(), nn.Linear(c, 50))
    raise ValueError("unknown kind " + k)


def input_shape(case, batch):
    if case["kind"] == "conv1d":
        return (batch, case["cin"], case["w"])
    if case["kind"] == "gru":
        return (batch, case["w"], case["cin"])
    return (batch, case["cin"], case["h"], case["w"])


# Small cases (well under a millisecond) are timed more often: the best of 5 runs still varied by 25%
# between runs on a shared machine. Same rule as app/bench_nn.cpp.
MIN_SECONDS = 0.3
MAX_RUNS = 200


def time_case(case, batch, repeats):
    model = build(case)
    model.train()
    x = torch.randn(*input_shape(case, batch))
    x.requires_grad_(case["kind"] != "train_step")
    fwd, bwd, fwd_cpu, bwd_cpu = [], [], [], []
    # As mtag's bench: at least `repeats` timed runs, and more (up to MAX_RUNS) until MIN_SECONDS of them.
    r = 0
    while r <= repeats or (sum(fwd) + sum(bwd) < MIN_SECONDS and r <= MAX_RUNS):
        t0, c0 = time.perf_counter(), time.process_time()
        y = model(x)
        t1, c1 = time.perf_counter(), time.process_time()
        g = torch.ones_like(y)
        t2, c2 = time.perf_counter(), time.process_time()
        y.backward(g)
        t3, c3 = time.perf_counter(), time.process_time()
        if r > 0:
            fwd.append(t1 - t0)
            bwd.append(t3 - t2)
            fwd_cpu.append(c1 - c0)
            bwd_cpu.append(c3 - c2)
        del y, g
        r += 1
    return min(fwd) * 1e3, min(bwd) * 1e3, min(fwd_cpu) * 1e3, min(bwd_cpu) * 1e3


def train_step_memory(case, batch):
    base = rss_kb("VmRSS")
    if not reset_peak():
        return None
    model = build(case)
    x = torch.randn(*input_shape(case, batch))
    target = torch.rand(batch, 50)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(2):
        model.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
    peak = rss_kb("VmHWM")
    return (peak - base) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    args = ap.parse_args()
    with open(args.cases) as f:
        spec = json.load(f)
    torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(0)
    repeats = int(spec["repeats"])
    cases = spec["cases"]
    # Memory first, in a fresh process state (only in mtag's first pass: "memory" false in later ones).
    for case in cases if spec.get("memory", True) else []:
        if case["kind"] == "train_step":
            for batch in case["batches"]:
                mb = train_step_memory(case, batch)
                print(json.dumps({"name": case["name"], "batch": batch, "peak_mb": mb}), flush=True)
    for case in cases:
        for batch in case["batches"]:
            with torch.enable_grad():
                f, b, fc, bc = time_case(case, batch, min(repeats, 3) if batch > 4 else repeats)
            print(json.dumps({"name": case["name"], "batch": batch, "forward_ms": f, "backward_ms": b,
                              "forward_cpu_ms": fc, "backward_cpu_ms": bc}), flush=True)


if __name__ == "__main__":
    main()
