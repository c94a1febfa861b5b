#!/usr/bin/python3
"""Reference fixtures for mtag's training toolkit (issue 6), written to tests/fixtures/train/.

    /usr/bin/python3 scripts/make_train_fixtures.py [--out tests/fixtures/train]

Needs Debian python3-torch (1.13) and python3-sklearn. Everything is seeded; rerunning reproduces the
committed JSON. Files:
  metrics.json     sklearn roc_auc_score / average_precision_score / top_k_accuracy_score / confusion_matrix
                   / precision_recall_fscore_support on random and tied scores (with one-class tags).
  schedules.json   per-step learning rates of torch.optim.lr_scheduler objects (and textbook formulas where
                   torch has none), plus the metric sequence fed to ReduceLROnPlateau.
  optimizers.json  10-step parameter trajectories of torch.optim optimizers (and paper-algorithm
                   references for diffGrad and AdaBelief) on a fixed small problem.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
from sklearn import metrics as skm


def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def nan_to_none(x):
    return None if (x is None or (isinstance(x, float) and math.isnan(x))) else float(x)


# ---------------------------------------------------------------------------------------------- metrics
def tagging_case(name, scores, labels):
    scores = scores.astype(np.float32)
    labels = labels.astype(np.float32)
    clips, tags = scores.shape
    auc, ap, skipped = [], [], []
    for t in range(tags):
        y = labels[:, t]
        if y.min() == y.max():
            auc.append(None)
            ap.append(None)
            skipped.append(t)
            continue
        auc.append(float(skm.roc_auc_score(y, scores[:, t])))
        ap.append(float(skm.average_precision_score(y, scores[:, t])))
    valid = [t for t in range(tags) if t not in skipped]
    return {
        "name": name, "clips": clips, "tags": tags,
        "scores": f32list(scores), "labels": f32list(labels),
        "roc_auc": auc, "average_precision": ap, "skipped_tags": skipped,
        "macro_roc_auc": float(np.mean([auc[t] for t in valid])),
        "macro_average_precision": float(np.mean([ap[t] for t in valid])),
        "micro_roc_auc": float(skm.roc_auc_score(labels.ravel(), scores.ravel())),
    }


def classification_case(name, scores, targets, k):
    scores = scores.astype(np.float32)
    classes = scores.shape[1]
    pred = scores.argmax(axis=1)
    p, r, f, s = skm.precision_recall_fscore_support(targets, pred, labels=list(range(classes)), zero_division=0)
    return {
        "name": name, "clips": scores.shape[0], "classes": classes,
        "scores": f32list(scores), "targets": [int(t) for t in targets], "k": k,
        "accuracy": float(skm.accuracy_score(targets, pred)),
        "top_k_accuracy": float(skm.top_k_accuracy_score(targets, scores, k=k, labels=list(range(classes)))),
        "confusion": [int(x) for x in skm.confusion_matrix(targets, pred, labels=list(range(classes))).ravel()],
        "precision": [float(x) for x in p], "recall": [float(x) for x in r], "f1": [float(x) for x in f],
        "support": [int(x) for x in s],
    }


def make_metrics():
    rng = np.random.default_rng(6)
    clips, tags = 48, 7
    labels = (rng.random((clips, tags)) < 0.3).astype(np.float32)
    labels[:, 3] = 0  # an all-negative tag
    labels[:, 5] = 1  # an all-positive tag
    labels[0, 6] = 1  # a tag with a single positive
    labels[:, 6] = 0
    labels[7, 6] = 1
    noisy = labels * 0.6 + rng.normal(0, 0.5, (clips, tags))
    random_scores = (1 / (1 + np.exp(-noisy))).astype(np.float32)
    tied_scores = np.round(random_scores * 4) / 4  # five distinct values: many ties
    cls_scores = rng.normal(0, 1, (60, 5)).astype(np.float32)
    targets = rng.integers(0, 5, 60)
    cls_scores[np.arange(60), targets] += 0.8
    tied_cls = np.round(cls_scores).astype(np.float32)  # ties for top-k
    return {
        "tagging": [tagging_case("random", random_scores, labels), tagging_case("tied", tied_scores, labels)],
        "classification": [classification_case("random", cls_scores, targets, 2),
                           classification_case("tied", tied_cls, targets, 3)],
    }


# -------------------------------------------------------------------------------------------- schedules
def run_torch_schedule(make, lr, steps, metrics=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    sched = make(opt)
    out = []
    for t in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
    return out


def make_schedules():
    S = torch.optim.lr_scheduler
    n = 40
    cases = {}
    cases["constant"] = [0.01] * n
    cases["step"] = run_torch_schedule(lambda o: S.StepLR(o, step_size=7, gamma=0.5), 0.1, n)
    cases["multi_step"] = run_torch_schedule(lambda o: S.MultiStepLR(o, milestones=[3, 10, 25], gamma=0.3), 0.1, n)
    cases["exponential"] = run_torch_schedule(lambda o: S.ExponentialLR(o, gamma=0.9), 0.1, n)
    cases["exponential_decay"] = run_torch_schedule(lambda o: S.LambdaLR(o, lambda t: math.exp(-0.15 * t)), 0.1, n)
    cases["inverse_time"] = run_torch_schedule(lambda o: S.LambdaLR(o, lambda t: 1 / (1 + 0.3 * t)), 0.1, n)
    cases["cosine"] = run_torch_schedule(lambda o: S.CosineAnnealingLR(o, T_max=15, eta_min=0.001), 0.1, n)
    cases["cosine_warm_restarts"] = run_torch_schedule(
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.002), 0.1, n)
    cases["cyclic_triangular"] = run_torch_schedule(
        lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6, mode="triangular"), 0.1, n)
    cases["cyclic_triangular2"] = run_torch_schedule(
        lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="triangular2"), 0.1, n)
    cases["cyclic_exp_range"] = run_torch_schedule(
        lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.97), 0.1, n)
    cases["one_cycle"] = run_torch_schedule(lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=n), 0.1, n)
    cases["one_cycle_linear_3phase"] = run_torch_schedule(
        lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=n, pct_start=0.25, anneal_strategy="linear",
                               div_factor=10., final_div_factor=100., three_phase=True), 0.1, n)
    # Warm-up: torch LinearLR for the first 5 steps, then the wrapped schedule from its own step 0.
    warm = run_torch_schedule(lambda o: S.LinearLR(o, start_factor=0.1, total_iters=5), 0.1, 5)
    cases["warmup_cosine"] = warm + run_torch_schedule(lambda o: S.CosineAnnealingLR(o, T_max=20), 0.1, n - 5)
    warm = run_torch_schedule(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=3), 0.05, 3)
    cases["warmup_step"] = warm + run_torch_schedule(lambda o: S.StepLR(o, step_size=4, gamma=0.5), 0.05, n - 3)
    # Reduce on plateau: a loss that improves, stalls, wiggles (and an accuracy-like value for mode max).
    rng = np.random.default_rng(60)
    loss = [float(1.0 / (1 + 0.5 * t) if t < 8 else 0.2 + 0.01 * rng.normal()) for t in range(n)]
    cases["plateau_min"] = run_torch_schedule(
        lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.004), 0.1, n, loss)
    acc = [float(min(0.9, 0.5 + 0.05 * t) + 0.002 * rng.normal()) for t in range(n)]
    cases["plateau_max_abs"] = run_torch_schedule(
        lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=3, threshold=0.005, threshold_mode="abs"),
        0.1, n, acc)
    return {"steps": n, "lrs": cases, "plateau_min_metric": loss, "plateau_max_abs_metric": acc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "train"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    outputs = {"metrics.json": make_metrics(), "schedules.json": make_schedules()}
    if "make_optimizers" in globals():
        outputs["optimizers.json"] = make_optimizers()
    for name, data in outputs.items():
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        print("wrote", os.path.join(args.out, name))


if __name__ == "__main__":
    main()
