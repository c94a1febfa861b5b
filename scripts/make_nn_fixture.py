#!/usr/bin/env python3
"""Reference outputs of small fixed networks from PyTorch, for tests/nn/test_torch_fixture.cpp.

Writes tests/fixtures/nn/torch_reference.json: for each network its architecture (in mtag's model.json
form, so the C++ test rebuilds it with nn::build_module), every parameter and buffer, an input, the
eval-mode output, and for one training step (batch statistics) the output, the loss, the gradients of
the input and of every parameter, and the updated BatchNorm running statistics.

Run: /usr/bin/python3 scripts/make_nn_fixture.py   (Debian python3-torch 1.13; CPU; deterministic)
"""
import json
import os
import sys

import torch
import torch.nn as nn


class GlobalPool(nn.Module):
    """mtag's GlobalPool: mean or amax over the last axis ('time') or all spatial axes ('all')."""

    def __init__(self, mode, axes):
        super().__init__()
        self.mode, self.axes = mode, axes

    def forward(self, x):
        dims = (-1,) if self.axes == "time" or x.dim() == 3 else (2, 3)
        return x.mean(dim=dims) if self.mode == "avg" else x.amax(dim=dims)


def net_2d():
    torch_net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ELU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(4, 3, (2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1)),
        nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, padding=1),
        nn.Flatten(),
        nn.Linear(18, 5),
    )
    arch = {"type": "Sequential", "layers": [
        {"type": "Conv2d", "in_channels": 2, "out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1]},
        {"type": "BatchNorm2d", "num_features": 4},
        {"type": "ELU", "alpha": 1.0},
        {"type": "MaxPool2d", "kernel_size": [2, 2], "ceil_mode": True},
        {"type": "Conv2d", "in_channels": 4, "out_channels": 3, "kernel_size": [2, 3], "stride": [1, 2],
         "dilation": [2, 1], "padding": [1, 1]},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "AvgPool2d", "kernel_size": [2, 2], "padding": [1, 1]},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 18, "out_features": 5},
    ]}
    return torch_net, arch, (3, 2, 7, 9)


def net_1d():
    torch_net = nn.Sequential(
        nn.Conv1d(1, 6, 3, stride=3),
        nn.BatchNorm1d(6),
        nn.ReLU(),
        nn.MaxPool1d(3),
        nn.Conv1d(6, 4, 4, padding="same", dilation=2),
        nn.Tanh(),
        GlobalPool("max", "time"),
        nn.Linear(4, 3),
        nn.Sigmoid(),
    )
    arch = {"type": "Sequential", "layers": [
        {"type": "Conv1d", "in_channels": 1, "out_channels": 6, "kernel_size": 3, "stride": 3},
        {"type": "BatchNorm1d", "num_features": 6},
        {"type": "ReLU"},
        {"type": "MaxPool1d", "kernel_size": 3},
        {"type": "Conv1d", "in_channels": 6, "out_channels": 4, "kernel_size": 4, "dilation": 2, "padding_same": True},
        {"type": "Tanh"},
        {"type": "GlobalPool", "mode": "max", "axes": "time"},
        {"type": "Linear", "in_features": 4, "out_features": 3},
        {"type": "Sigmoid"},
    ]}
    return torch_net, arch, (4, 1, 81)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def record(name, builder, seed):
    torch.manual_seed(seed)
    net, arch, in_shape = builder()
    # Non-trivial BN parameters and running statistics.
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(*in_shape)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    net.eval()
    with torch.no_grad():
        out_eval = net(x)
    net.train()
    xg = x.clone().requires_grad_(True)
    out_train = net(xg)
    k = out_train.shape[1]
    if name == "net_2d":
        targets = torch.tensor([0, 4, 2])
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
        loss = loss_fn(out_train, targets)
        target_json = {"classes": targets.tolist()}
    else:
        # The 1-D net ends in a sigmoid; BCE-with-logits is applied to its output as "logits".
        targets = (torch.rand(in_shape[0], k) > 0.5).float()
        pos_weight = torch.tensor([1.0, 2.0, 0.5])
        loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        loss = loss_fn(out_train, targets)
        target_json = {"multi_hot": flat(targets), "pos_weight": flat(pos_weight)}
    loss.backward()
    return {
        "architecture": arch,
        "input_shape": list(in_shape),
        "input": flat(x),
        "state": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in state.items()},
        "output_shape": list(out_eval.shape),
        "output_eval": flat(out_eval),
        "output_train": flat(out_train),
        "targets": target_json,
        "loss": float(loss),
        "grad_input": flat(xg.grad),
        "grads": {n: flat(p.grad) for n, p in net.named_parameters()},
        "state_after_train": {k: flat(v) for k, v in net.state_dict().items() if "running" in k},
    }


def main():
    torch.set_num_threads(1)
    out = {
        "generator": "scripts/make_nn_fixture.py",
        "torch_version": torch.__version__,
        "tolerances": {"output_abs": 2e-5, "output_rel": 1e-4, "grad_abs": 1e-5, "grad_rel": 1e-3, "loss_rel": 1e-5},
        "networks": {"net_2d": record("net_2d", net_2d, 1), "net_1d": record("net_1d", net_1d, 2)},
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "fixtures", "nn", "torch_reference.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
