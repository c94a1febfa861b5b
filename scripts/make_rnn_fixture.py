#!/usr/bin/env python3
"""Reference values of torch.nn.GRU and torch.nn.LSTM, for tests/nn/layers/test_gru.cpp and test_lstm.cpp.

Writes tests/fixtures/nn/rnn_reference.json: for each case its architecture (mtag's model.json form, so the
C++ test rebuilds it with nn::build_module), the weights (named as in torch's state_dict, which mtag's
pytorch-convention layers use too), an input (N, T, F) = (2, 5, 4) with H = 3, the output (every step,
or the last step for return_sequences = false), a fixed upstream gradient, and the gradients of the input
and of every weight for L = sum(output * upstream).

Weights and input are drawn as float32 (so mtag holds exactly the same values); the reference itself is
computed in float64, so the fixture carries no float32 rounding of its own.

Run: /usr/bin/python3 scripts/make_rnn_fixture.py   (Debian python3-torch 1.13; CPU; deterministic)
"""
import json
import os
import sys

import torch
import torch.nn as nn

N, T, F, H = 2, 5, 4, 3


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def record(kind, return_sequences, seed):
    torch.manual_seed(seed)
    cls = nn.GRU if kind == "GRU" else nn.LSTM
    net = cls(F, H, batch_first=True)  # torch's default init U(-1/sqrt(H), 1/sqrt(H)), float32
    x = torch.randn(N, T, F)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    net = net.double()
    xg = x.double().requires_grad_(True)
    out, _ = net(xg)
    y = out if return_sequences else out[:, -1, :]
    upstream = torch.randn(*y.shape, dtype=torch.float32).double()
    (y * upstream).sum().backward()
    return {
        "architecture": {"type": kind, "input_size": F, "hidden_size": H, "convention": "pytorch",
                         "return_sequences": return_sequences},
        "input_shape": [N, T, F],
        "input": flat(x),
        "state": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in state.items()},
        "output_shape": list(y.shape),
        "output": flat(y),
        "grad_output": flat(upstream),
        "grad_input": flat(xg.grad),
        "grads": {n: flat(p.grad) for n, p in net.named_parameters()},
    }


def main():
    torch.set_num_threads(1)
    out = {
        "generator": "scripts/make_rnn_fixture.py",
        "torch_version": torch.__version__,
        "tolerance_abs": 1e-5,
        "cases": {
            "gru_sequences": record("GRU", True, 11),
            "gru_last": record("GRU", False, 12),
            "lstm_sequences": record("LSTM", True, 13),
            "lstm_last": record("LSTM", False, 14),
        },
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "fixtures", "nn", "rnn_reference.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
