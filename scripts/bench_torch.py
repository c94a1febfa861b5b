#!/usr/bin/env python3
"""PyTorch reference timings for `mtag bench nn` (same layer shapes, same thread count).

Reads the case list that mtag writes (JSON: {"threads": T, "repeats": R, "cases": [...]}) and prints one
JSON line per case: {"name", "batch", "forward_ms", "backward_ms"} (best of R runs after one warm-up),
and for the "train_step" case also "peak_mb" (peak resident memory of two training steps above the
resident size before the model was built; measured first, via /proc/self/clear_refs + VmHWM).
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
    return (batch, case["cin"], case["h"], case["w"])


def time_case(case, batch, repeats):
    model = build(case)
    model.train()
    x = torch.randn(*input_shape(case, batch))
    x.requires_grad_(case["kind"] != "train_step")
    fwd, bwd = [], []
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        y = model(x)
        t1 = time.perf_counter()
        g = torch.ones_like(y)
        t2 = time.perf_counter()
        y.backward(g)
        t3 = time.perf_counter()
        if r > 0:
            fwd.append(t1 - t0)
            bwd.append(t3 - t2)
        del y, g
    return min(fwd) * 1e3, min(bwd) * 1e3


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
    # Memory first, in a fresh process state.
    for case in cases:
        if case["kind"] == "train_step":
            for batch in case["batches"]:
                mb = train_step_memory(case, batch)
                print(json.dumps({"name": case["name"], "batch": batch, "peak_mb": mb}), flush=True)
    for case in cases:
        for batch in case["batches"]:
            with torch.enable_grad():
                f, b = time_case(case, batch, min(repeats, 3) if batch > 4 else repeats)
            print(json.dumps({"name": case["name"], "batch": batch, "forward_ms": f, "backward_ms": b}), flush=True)


if __name__ == "__main__":
    main()
