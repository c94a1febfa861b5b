#!/usr/bin/env python3
"""PyTorch reference for `mtag bench train`: the tagging presets built in PyTorch, same batch and threads.

For each preset in --spec (JSON list of {"preset", "options"} as mtag's nn/models states them), the
architecture is built by scripts/export_check.py's build_twin (the PyTorch twin that loads mtag's
weights by name), then measured like mtag measures itself:
  peak_mb            VmHWM after building the model + Adam and two training steps, minus VmRSS before
                     (free heap first returned with malloc_trim, as mtag does; peak reset through
                     /proc/self/clear_refs; -1 when the kernel refuses)
  train_clips_per_s  batch / best time of a training step (forward, BCEWithLogits, backward, Adam step)
  train_clips_per_s_median  batch / median time of the same steps (the sustained rate)
  infer_clips_per_s  batch / best time of an eval-mode forward under torch.no_grad()
Prints one JSON line: {"threads", "batch", "settings", "results": [{"preset", ...}]}. Exit 3 without torch.

The settings a performance-minded user would try (`mtag bench train` runs the combinations and keeps
the fastest, naming it in its table):
  --channels-last    model and activations in torch.channels_last (2-D models; 1-D ones are unchanged)
  --mkldnn off       torch.backends.mkldnn.enabled = False (oneDNN convolutions off; on by default)
  LD_PRELOAD=.../libjemalloc.so.2 in the environment (Debian libjemalloc2) to replace glibc's malloc;
  the allocator in use is reported as "allocator".

Run by hand: python3 scripts/bench_torch_models.py --spec spec.json --batch 16 --threads 2
"""
import argparse
import ctypes
import gc
import json
import os
import sys
import time

try:
    import torch
    import torch.nn as tnn
except ImportError:
    print("bench_torch_models.py: torch is not importable with " + sys.executable, file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from export_check import build_twin, input_shape  # the PyTorch twins of mtag's presets
    from bench_torch import reset_peak, rss_kb as status_kb  # /proc-based peak memory, shared with the layer bench
except ImportError as e:
    print("bench_torch_models.py: scripts/export_check.py (PyTorch twins) not importable: %s" % e, file=sys.stderr)
    sys.exit(3)


def trim_heap():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


# Fast models are timed over more steps: the best of 3 steps of cnn1d (a few milliseconds each) varied
# by 2x between runs. Same rule as app/bench_train.cpp: at least `steps` runs, more (up to MAX_RUNS)
# until MIN_SECONDS of timed runs.
MIN_SECONDS = 1.0
MAX_RUNS = 500


def step_times(fn, steps):
    """(best, median) wall time of fn over at least `steps` runs, more until MIN_SECONDS of runs."""
    times = []
    while len(times) < steps or (sum(times) < MIN_SECONDS and len(times) < MAX_RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def allocator():
    """'jemalloc' when it was preloaded (LD_PRELOAD), else 'glibc'."""
    return "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "glibc"


def measure(preset, options, batch, steps, n_tags, channels_last):
    trim_heap()
    base = status_kb("VmRSS")
    peak_ok = reset_peak()
    torch.manual_seed(1)
    model = build_twin(preset, options, n_tags)
    # channels_last applies to 4-D tensors: with the conv weights in it, oneDNN keeps the activations in it
    # too (the twins reshape the (N, n_mels, T) input to (N, 1, n_mels, T), which is both layouts at once).
    if channels_last and any(p.dim() == 4 for p in model.parameters()):
        model = model.to(memory_format=torch.channels_last)
    model.train()
    x = torch.randn(*input_shape(options, batch))
    target = torch.zeros(batch, n_tags)
    target.view(-1)[::7] = 1.0
    loss_fn = tnn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), target)
        loss.backward()
        opt.step()

    train_step()
    train_step()
    peak_mb = (status_kb("VmHWM") - base) / 1024.0 if peak_ok else -1.0
    train_best, train_median = step_times(train_step, steps)
    model.eval()
    with torch.no_grad():
        model(x)
        infer_best, _ = step_times(lambda: model(x), steps)
    del model, opt
    return {"preset": preset, "train_clips_per_s": batch / train_best,
            "train_clips_per_s_median": batch / train_median, "infer_clips_per_s": batch / infer_best,
            "peak_mb": peak_mb}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True, help="JSON file: [{preset, options}, ...]")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tags", type=int, default=50)
    ap.add_argument("--channels-last", action="store_true", help="torch.channels_last for 2-D models")
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on", help="torch.backends.mkldnn.enabled")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    settings = {"allocator": allocator(), "channels_last": a.channels_last, "mkldnn": a.mkldnn == "on"}
    with open(a.spec) as f:
        spec = json.load(f)
    results = []
    for item in spec:
        try:
            r = measure(item["preset"], item["options"], a.batch, a.steps, a.tags, a.channels_last)
        except (RuntimeError, MemoryError, KeyError, ValueError) as e:  # one preset's failure is reported
            r = {"preset": item["preset"], "error": str(e)}
        print("bench_torch_models.py: %s" % json.dumps(r), file=sys.stderr)
        results.append(r)
    print(json.dumps({"threads": a.threads, "batch": a.batch, "torch": torch.__version__, "settings": settings,
                      "results": results}))


if __name__ == "__main__":
    main()
