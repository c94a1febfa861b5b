#!/usr/bin/python3
"""Reference timings for `mtag bench train`: torch.optim step times and sklearn tagging metrics.

    /usr/bin/python3 scripts/bench_optim_torch.py --elements 4194304 --tensors 8 --steps 20 --threads 1

Prints one JSON line per measurement: {"what": "optimizer", "name": "adam", "foreach": false, "ms": ...}
and {"what": "metrics", "ms": ...}. Same problem sizes and names as app/bench_train.cpp.
"""
import argparse
import json
import time

import numpy as np
import torch
from sklearn import metrics as skm


def optimizers():
    o = torch.optim
    return {
        "sgd": lambda p, fe: o.SGD(p, lr=1e-3, foreach=fe),
        "momentum": lambda p, fe: o.SGD(p, lr=1e-3, momentum=0.9, foreach=fe),
        "nesterov": lambda p, fe: o.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, foreach=fe),
        "adagrad": lambda p, fe: o.Adagrad(p, lr=1e-3, foreach=fe),
        "rmsprop": lambda p, fe: o.RMSprop(p, lr=1e-3, foreach=fe),
        "rmsprop_centered": lambda p, fe: o.RMSprop(p, lr=1e-3, momentum=0.9, centered=True, foreach=fe),
        "adam": lambda p, fe: o.Adam(p, lr=1e-3, foreach=fe),
        "amsgrad": lambda p, fe: o.Adam(p, lr=1e-3, amsgrad=True, foreach=fe),
        "adamw": lambda p, fe: o.AdamW(p, lr=1e-3, foreach=fe),
        "radam": lambda p, fe: o.RAdam(p, lr=1e-3, foreach=fe),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=int, default=1 << 22)
    ap.add_argument("--tensors", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clips", type=int, default=4000)
    ap.add_argument("--tags", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    per = args.elements // args.tensors
    gen = torch.Generator().manual_seed(1)
    for name, make in optimizers().items():
        for fe in (False, True):
            params = [torch.nn.Parameter(torch.randn(per, generator=gen)) for _ in range(args.tensors)]
            for p in params:
                p.grad = torch.randn(per, generator=gen) * 1e-2
            opt = make(params, fe)
            opt.step()
            opt.step()
            ms = float("inf")  # best single step, as app/bench_train.cpp
            for _ in range(args.steps):
                t0 = time.perf_counter()
                opt.step()
                ms = min(ms, (time.perf_counter() - t0) * 1e3)
            print(json.dumps({"what": "optimizer", "name": name, "foreach": fe, "ms": ms}), flush=True)
    rng = np.random.default_rng(2)
    labels = (rng.random((args.clips, args.tags)) < 0.1).astype(np.float32)
    scores = (labels * 0.5 + rng.random((args.clips, args.tags))).astype(np.float32)
    ms = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        skm.roc_auc_score(labels, scores, average=None)
        skm.average_precision_score(labels, scores, average=None)
        skm.roc_auc_score(labels, scores, average="micro")
        ms = min(ms, (time.perf_counter() - t0) * 1e3)
    print(json.dumps({"what": "metrics", "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
