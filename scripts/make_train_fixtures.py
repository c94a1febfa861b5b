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


# ------------------------------------------------------------------------------------------- optimizers
# The fixed problem: two parameters, "weight" [3, 4] and "bias" [4] (a bias: no weight decay unless the
# case says so), gradient g = a (p - c) + 0.1 p^3 evaluated in float64 from the float32 values and
# rounded to float32 (the C++ test computes it the same way, so only the optimizers' arithmetic differs).
def problem():
    rng = np.random.default_rng(66)
    return {
        "weight0": rng.uniform(-1, 1, (3, 4)).astype(np.float32), "bias0": rng.uniform(-1, 1, 4).astype(np.float32),
        "a_weight": rng.uniform(0.5, 3, (3, 4)), "c_weight": rng.uniform(-1, 1, (3, 4)),
        "a_bias": rng.uniform(0.5, 3, 4), "c_bias": rng.uniform(-1, 1, 4),
    }


def gradient(v, a, c):
    v = v.astype(np.float64)
    return (a * (v - c) + 0.1 * v * v * v).astype(np.float32)


class DiffGradRef:
    """diffGrad from Dubey et al. 2019, Algorithm 1, in float32 (xi from |g_{t-1} - g_t|, g_0 = 0)."""

    def __init__(self, groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [p for g in groups for p in g["params"]]
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps
        self.state = [dict(m=np.zeros(p.shape, np.float32), v=np.zeros(p.shape, np.float32),
                           prev=np.zeros(p.shape, np.float32), t=0) for p in self.params]

    def step(self):
        f = np.float32
        for p, st in zip(self.params, self.state):
            g = p.grad.numpy()
            st["t"] += 1
            bc1, bc2 = f(1 - self.b1 ** st["t"]), f(1 - self.b2 ** st["t"])
            st["m"] = st["m"] * f(self.b1) + f(1 - self.b1) * g
            st["v"] = st["v"] * f(self.b2) + f(1 - self.b2) * g * g
            xi = f(1) / (f(1) + np.exp(-np.abs(st["prev"] - g)))
            upd = f(self.lr) * xi * (st["m"] / bc1) / (np.sqrt(st["v"] / bc2) + f(self.eps))
            with torch.no_grad():
                p.sub_(torch.from_numpy(upd.astype(np.float32)))
            st["prev"] = g.copy()


class AdaBeliefRef:
    """AdaBelief from Zhuang et al. 2020, Algorithm 2, in float32 (eps inside s_t and after the root)."""

    def __init__(self, groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-16):
        self.params = [p for g in groups for p in g["params"]]
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps
        self.state = [dict(m=np.zeros(p.shape, np.float32), s=np.zeros(p.shape, np.float32), t=0)
                      for p in self.params]

    def step(self):
        f = np.float32
        for p, st in zip(self.params, self.state):
            g = p.grad.numpy()
            st["t"] += 1
            bc1, bc2 = f(1 - self.b1 ** st["t"]), f(1 - self.b2 ** st["t"])
            st["m"] = st["m"] * f(self.b1) + f(1 - self.b1) * g
            r = g - st["m"]
            st["s"] = st["s"] * f(self.b2) + f(1 - self.b2) * r * r + f(self.eps)
            upd = f(self.lr) * (st["m"] / bc1) / (np.sqrt(st["s"] / bc2) + f(self.eps))
            with torch.no_grad():
                p.sub_(torch.from_numpy(upd.astype(np.float32)))


# name -> (optimizer class, options, weight-group overrides, bias-group overrides, extras)
# extras: l1 = decay coefficient applied as g += l1 sign(p) to the weight (torch has no L1 mode),
#         clip = clip_grad_norm_ max_norm before every step, decay_bias = bias group decays too.
OPTIMIZER_CASES = {
    "sgd": (torch.optim.SGD, dict(lr=0.1), {}, {}, {}),
    "sgd_weight_decay": (torch.optim.SGD, dict(lr=0.1, weight_decay=0.05), {}, {}, {}),
    "sgd_l1": (torch.optim.SGD, dict(lr=0.1), {}, {}, dict(l1=0.05)),
    "sgd_groups": (torch.optim.SGD, dict(lr=0.1, momentum=0.9), {}, dict(lr=0.01), {}),
    "sgd_clip": (torch.optim.SGD, dict(lr=0.1, momentum=0.9), {}, {}, dict(clip=0.5)),
    "momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9), {}, {}, {}),
    "momentum_dampening": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3), {}, {}, {}),
    "nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), {}, {}, {}),
    "nesterov_weight_decay": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                              {}, {}, {}),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.1), {}, {}, {}),
    "adagrad_options": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1,
                                                  weight_decay=0.01), {}, {}, {}),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01), {}, {}, {}),
    "rmsprop_momentum": (torch.optim.RMSprop, dict(lr=0.01, momentum=0.8), {}, {}, {}),
    "rmsprop_centered": (torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
                         {}, {}, {}),
    "adam": (torch.optim.Adam, dict(lr=0.05), {}, {}, {}),
    "adam_weight_decay": (torch.optim.Adam, dict(lr=0.05, weight_decay=0.01), {}, {}, {}),
    "adam_decay_bias": (torch.optim.Adam, dict(lr=0.05, weight_decay=0.01), {}, {}, dict(decay_bias=True)),
    "amsgrad": (torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True), {}, {}, {}),
    "adamw": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1), {}, {}, {}),
    "adamw_amsgrad": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1, amsgrad=True), {}, {}, {}),
    "radam": (torch.optim.RAdam, dict(lr=0.05), {}, {}, {}),
    "radam_weight_decay": (torch.optim.RAdam, dict(lr=0.05, betas=(0.9, 0.99), weight_decay=0.01), {}, {}, {}),
    "diffgrad": (DiffGradRef, dict(lr=0.05), {}, {}, {}),
    "adabelief": (AdaBeliefRef, dict(lr=0.05), {}, {}, {}),
    "adabelief_eps": (AdaBeliefRef, dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6), {}, {}, {}),
}


def make_optimizers(steps=10):
    pr = problem()
    out = {"steps": steps, "weight0": f32list(pr["weight0"]), "bias0": f32list(pr["bias0"]),
           "a_weight": [float(x) for x in pr["a_weight"].ravel()], "c_weight": [float(x) for x in pr["c_weight"].ravel()],
           "a_bias": [float(x) for x in pr["a_bias"].ravel()], "c_bias": [float(x) for x in pr["c_bias"].ravel()],
           "cases": {}}
    for name, (cls, opts, wover, bover, extra) in OPTIMIZER_CASES.items():
        w = torch.nn.Parameter(torch.from_numpy(pr["weight0"].copy()))
        b = torch.nn.Parameter(torch.from_numpy(pr["bias0"].copy()))
        bias_group = dict(params=[b], **bover)
        if not extra.get("decay_bias") and "weight_decay" in opts:
            bias_group["weight_decay"] = 0.0  # mtag excludes biases from decay by default
        groups = [dict(params=[w], **wover), bias_group]
        if cls in (DiffGradRef, AdaBeliefRef):
            opt = cls(groups, **opts)
        else:
            opt = cls(groups, foreach=False, **opts)
        traj = []
        for _ in range(steps):
            gw = gradient(w.detach().numpy(), pr["a_weight"], pr["c_weight"])
            gb = gradient(b.detach().numpy(), pr["a_bias"], pr["c_bias"])
            if "l1" in extra:
                gw = gw + np.float32(extra["l1"]) * np.sign(w.detach().numpy())
            w.grad = torch.from_numpy(gw)
            b.grad = torch.from_numpy(gb)
            if "clip" in extra:
                torch.nn.utils.clip_grad_norm_([w, b], extra["clip"])
            opt.step()
            traj.append({"weight": f32list(w.detach().numpy()), "bias": f32list(b.detach().numpy())})
        out["cases"][name] = traj
    return out


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
