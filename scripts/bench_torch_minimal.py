#!/usr/bin/env python3
"""An independent cross-check of the PyTorch figures of `mtag bench train`.

scripts/bench_torch_models.py builds its models with scripts/export_check.py's twins and its own timing
helpers; this script shares none of that code. It writes two presets out by hand from their reference
descriptions (nn/models/short_chunk.hpp: Won et al. 2020 ShortChunkCNN_Res; nn/models/cnn1d.hpp) and
times training steps with a plain loop: forward, BCEWithLogitsLoss on 50 tags, backward, Adam (lr 1e-4),
the same work as `mtag bench train`. Its clips/s should agree with bench_torch_models.py's under the same
settings (within the run-to-run spread of a shared machine); a large gap means one of the two measures
something else than PyTorch at its best.

  /usr/bin/python3 scripts/bench_torch_minimal.py --model short_chunk_resnet --threads 2 --batch 16
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 scripts/bench_torch_minimal.py ...

Prints one JSON line: {"model", "threads", "batch", "steps", "settings", "train_clips_per_s" (best step),
"train_clips_per_s_median"}.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn


class Res2d(nn.Module):
    """minzwon/sota-music-tagging-models modules.py Res_2d (3x3 convs; stride-2 3x3 shortcut)."""

    def __init__(self, cin, cout, stride=2):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ShortChunkRes(nn.Module):
    """ShortChunkCNN_Res on a (N, 128, 231) log-mel chunk."""

    def __init__(self, n_tags):
        super().__init__()
        chans = [128, 128, 256, 256, 256, 256, 512]
        layers, cin = [nn.BatchNorm2d(1)], 1
        for c in chans:
            layers.append(Res2d(cin, c))
            cin = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(512, n_tags))

    def forward(self, x):
        x = self.features(x.unsqueeze(1))
        return self.head(x.amax(dim=(2, 3)))


class Cnn1d(nn.Module):
    """mtag's cnn1d: 1-D convs over time with the 128 mel bins as channels, on (N, 128, 94)."""

    def __init__(self, n_tags):
        super().__init__()

        def block(cin, cout, pool):
            layers = [nn.Conv1d(cin, cout, 4), nn.BatchNorm1d(cout), nn.ReLU()]
            return layers + ([nn.MaxPool1d(pool)] if pool > 1 else [])

        self.features = nn.Sequential(*block(128, 128, 4), *block(128, 128, 2), *block(128, 256, 1))
        self.head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, n_tags))

    def forward(self, x):
        x = self.features(x)
        return self.head(torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1))


MODELS = {"short_chunk_resnet": (ShortChunkRes, (128, 231)), "cnn1d": (Cnn1d, (128, 94))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10, help="timed steps after 3 warm-up steps")
    ap.add_argument("--tags", type=int, default=50)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    torch.manual_seed(0)
    cls, shape = MODELS[a.model]
    model = cls(a.tags).train()
    if a.channels_last and a.model != "cnn1d":
        model = model.to(memory_format=torch.channels_last)
    x = torch.randn(a.batch, *shape)
    y = (torch.rand(a.batch, a.tags) < 0.15).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    times = []
    for step in range(3 + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if step >= 3:
            times.append(time.perf_counter() - t0)
    settings = {"allocator": "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "glibc",
                "channels_last": a.channels_last, "mkldnn": a.mkldnn == "on"}
    print(json.dumps({"model": a.model, "threads": a.threads, "batch": a.batch, "steps": a.steps,
                      "settings": settings, "train_clips_per_s": a.batch / min(times),
                      "train_clips_per_s_median": a.batch / statistics.median(times)}))


if __name__ == "__main__":
    main()
