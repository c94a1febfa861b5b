#!/usr/bin/python3
"""Prints the PyTorch reference values hard-coded in the tests of issue 19's regularisation pieces:
SELU (tests/nn/layers/test_activation.cpp), BCE with label smoothing on smoothed targets
(tests/nn/test_loss.cpp), torch.renorm for max-norm (tests/nn/train/test_regularization.cpp) and the
orthogonal factor of torch.nn.init.orthogonal_ (tests/nn/test_init.cpp). Needs Debian's python3-torch:
    /usr/bin/python3 scripts/regularization_reference.py
"""
import math

import torch

x = torch.tensor([-3.0, -1.0, -0.1, 0.5, 2.0])
print("selu", torch.selu(x).tolist())

logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 0.2, 1.5]], requires_grad=True)
targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
s = 0.1
loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets * (1 - s) + s / 2)
loss.backward()
print("bce_label_smoothing", loss.item(), logits.grad.flatten().tolist())

w = torch.tensor([[3.0, 4.0, 0.0], [0.1, 0.1, 0.1], [1.0, 2.0, 2.0]])
print("renorm", torch.renorm(w, 2, 0, 1.0).flatten().tolist())

# torch.nn.init.orthogonal_'s deterministic part on a = 2 sin(1..rows*cols), float64.
for rows, cols in [(3, 5), (5, 3)]:
    a = torch.tensor([2 * math.sin(i + 1) for i in range(rows * cols)], dtype=torch.float64).reshape(rows, cols)
    flat = a.t() if rows < cols else a
    q, r = torch.linalg.qr(flat)
    q *= torch.diag(r, 0).sign()
    if rows < cols:
        q = q.t()
    print("orthogonal", rows, cols, [round(v, 12) for v in q.flatten().tolist()])
