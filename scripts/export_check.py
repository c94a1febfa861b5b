#!/usr/bin/python3
"""Checks that mtag's tagging models load into PyTorch and compute the same thing.

For every preset (or those named): `mtag model init` writes a randomly initialised model directory
(with a few training-mode passes so BatchNorm running statistics are not 0/1), the PyTorch twin of the
architecture -- built here from the same options in model.json, with the same parameter names -- loads
model.safetensors BY NAME (strict: every key must match, shapes included), and both run the same
seeded input in eval mode (`mtag model forward`). The logits and the penultimate-layer embedding must
agree within --tol (default 1e-4, absolute). Also prints each twin's parameter count, which
tests/nn/test_models.cpp hard-codes as the published architectures' counts.

--via-import checks the other direction, PyTorch -> mtag, as a user with upstream weights would: for each
preset the twin gets random weights (BatchNorm weight/bias randomised, running statistics from two batch-8
training-mode passes: eval mode is not the identity), its state_dict is saved under Won et al.'s
sota-music-tagging-models names where mtag knows them (scripts/import_pytorch.py to_upstream: plus the
torchaudio front-end buffers, and wrapped as {'state_dict': ...} or 'module.'-prefixed for some presets),
else under mtag's names; scripts/import_pytorch.py converts it to safetensors, `mtag model import --from
safetensors` makes a model directory, and `mtag model forward` must give the twin's logits within --tol
(default 1e-5 in this mode; the forward runs with MTAG_CONV_ALGO=gemm, see --conv-algo: Winograd's
rounding alone reaches ~2e-5 on the deeper presets once BatchNorm keeps activations at unit scale).

Usage: scripts/export_check.py (Debian python3: /usr/bin/python3 has python3-torch)
       [--mtag build/mtag] [--tol 1e-4] [--threads 2] [--params-only] [--via-import] [--options JSON] [PRESET...]
Needs python3-torch (Debian 1.13) and numpy; nothing else.
"""
import argparse
import copy
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as tnn

PRESETS = ["cnn1d", "fcn4", "fcn5", "short_chunk_cnn", "short_chunk_resnet", "sample_cnn", "sample_cnn_se", "crnn",
           "choi2016_crnn", "choi2016_cnn"]


# ---------------------------------------------------------------- safetensors (format spec, no library)
def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[base + begin:base + end], dtype=dtype).reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array, dtype=np.float32)
        raw = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---------------------------------------------------------------- the twins (names = mtag's stage names)
class Chain(tnn.Module):
    """Named layers called in order (mtag nn/models/blocks.hpp Chain)."""

    def __init__(self, layers):
        super().__init__()
        self.order = []
        for name, module in layers:
            setattr(self, name, module)
            self.order.append(name)

    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x)
        return x


def act(name):
    return {"relu": tnn.ReLU(), "elu": tnn.ELU(), "leaky_relu": tnn.LeakyReLU(0.01)}[name]


def conv_block(dim, cin, cout, kernel, stride, padding, pool, bn=True, activation="relu", eps=1e-5, dropout=0.0):
    Conv, BN, MP = (tnn.Conv2d, tnn.BatchNorm2d, tnn.MaxPool2d) if dim == 2 else (tnn.Conv1d, tnn.BatchNorm1d, tnn.MaxPool1d)
    layers = [("conv", Conv(cin, cout, kernel, stride=stride, padding=padding))]
    if bn:
        layers.append(("bn", BN(cout, eps=eps)))
    layers.append((activation, act(activation)))
    big = (pool[0] > 1 or pool[1] > 1) if isinstance(pool, (tuple, list)) else pool > 1
    if big:
        layers.append(("mp", MP(tuple(pool) if isinstance(pool, (tuple, list)) else pool)))
    if dropout > 0:
        layers.append(("dropout", tnn.Dropout(dropout)))
    return Chain(layers)


class GlobalMax(tnn.Module):
    def forward(self, x):
        return x.amax(dim=tuple(range(2, x.dim())))


class GlobalMean(tnn.Module):
    def forward(self, x):
        return x.mean(dim=tuple(range(2, x.dim())))


class MeanMax(tnn.Module):
    def forward(self, x):
        return torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)


class ResBlock2d(tnn.Module):
    """sota-music-tagging-models modules.py Res_2d."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv_1 = tnn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn_1 = tnn.BatchNorm2d(cout)
        self.conv_2 = tnn.Conv2d(cout, cout, 3, padding=1)
        self.bn_2 = tnn.BatchNorm2d(cout)
        self.diff = stride != 1 or cin != cout
        if self.diff:
            self.conv_3 = tnn.Conv2d(cin, cout, 3, stride=stride, padding=1)
            self.bn_3 = tnn.BatchNorm2d(cout)
        self.relu = tnn.ReLU()

    def forward(self, x):
        out = self.bn_2(self.conv_2(self.relu(self.bn_1(self.conv_1(x)))))
        if self.diff:
            x = self.bn_3(self.conv_3(x))
        return self.relu(x + out)


class SqueezeExcitation(tnn.Module):
    """tae-jun/resemul model.py se_fn: mean over time, fc1 + ReLU, fc2 + sigmoid, scale channels."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.fc1 = tnn.Linear(channels, hidden)
        self.fc2 = tnn.Linear(hidden, channels)

    def forward(self, x):
        e = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=2)))))
        return x * e.unsqueeze(-1)


class TimeBatchNorm(tnn.BatchNorm1d):
    """BatchNorm over axis 3 of (N, C, H, W): one feature per time position, the other axes reduced
    (Keras 1 BatchNormalization(axis=3), Choi et al.'s "bn_0_freq"; mtag BatchNorm2d with axis 3).
    Batch statistics in training, running statistics in eval, torch's momentum and unbiased running
    variance; state_dict names weight, bias, running_mean, running_var, num_batches_tracked."""

    def forward(self, x):
        n, c, h, w = x.shape
        y = super().forward(x.permute(0, 3, 1, 2).reshape(n, w, c * h))
        return y.reshape(n, w, c, h).permute(0, 2, 3, 1)


class DftMelgramTwin(tnn.Module):
    """mtag nn/layers/dft_melgram.hpp (kapre 0.0.3's Melspectrogram): frames with TensorFlow 'SAME' padding,
    power from stored DFT kernels, a stored mel matrix, dB relative to each example's maximum, floored at
    -dynamic_range; (N, S) -> (N, 1, n_mels, T). Kernels and mel matrix are buffers, as upstream."""

    def __init__(self, n_dft, hop, n_mels, amin=1e-10, dynamic_range=80.0):
        super().__init__()
        n_bins = n_dft // 2 + 1
        n = torch.arange(n_dft, dtype=torch.float64).unsqueeze(1)
        k = torch.arange(n_bins, dtype=torch.float64).unsqueeze(0)
        window = torch.hann_window(n_dft, periodic=True, dtype=torch.float64).unsqueeze(1)
        self.register_buffer("dft_real", (window * torch.cos(2 * np.pi * n * k / n_dft)).float())
        self.register_buffer("dft_imag", (window * torch.sin(2 * np.pi * n * k / n_dft)).float())  # +sin, as kapre
        self.register_buffer("mel", torch.rand(n_bins, n_mels) / n_bins)
        self.n_dft, self.hop, self.amin, self.dynamic_range = n_dft, hop, amin, dynamic_range

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        samples = x.shape[1]
        frames = -(-samples // self.hop)
        pad = max((frames - 1) * self.hop + self.n_dft - samples, 0)
        x = tnn.functional.pad(x, (pad // 2, pad - pad // 2))
        framed = x.unfold(1, self.n_dft, self.hop)[:, :frames]
        power = (framed @ self.dft_real) ** 2 + (framed @ self.dft_imag) ** 2
        db = 10 * torch.log10(torch.clamp(power @ self.mel, min=self.amin))
        db = torch.clamp(db - db.amax(dim=(1, 2), keepdim=True), min=-self.dynamic_range)
        return db.transpose(1, 2).unsqueeze(1)


class Mode2BatchNorm2d(tnn.BatchNorm2d):
    """Keras 1 BatchNormalization mode 2 (mtag BatchNorm's batch_stats_in_eval): the batch's own statistics in
    eval too; training updates the running statistics as torch does, so the state_dict names are torch's."""

    def forward(self, x):
        if self.training:
            return super().forward(x)
        return tnn.functional.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class TorchGRU(tnn.GRU):
    """torch.nn.GRU (one layer, batch first) that returns the sequence or the last state (mtag GRU,
    convention pytorch): the parameters keep torch's names (weight_ih_l0, ...)."""

    def __init__(self, input_size, hidden_size, return_sequences):
        super().__init__(input_size, hidden_size, num_layers=1, batch_first=True)
        self.return_sequences = return_sequences

    def forward(self, x):
        out, _ = super().forward(x)
        return out if self.return_sequences else out[:, -1]


class Keras1GRU(tnn.Module):
    """Keras 1.2 GRU (consume_less='cpu') with mtag's parameter names (nn/layers/gru.hpp, keras1):
    z = hs(x W_z + h U_z + b_z), r = hs(x W_r + h U_r + b_r), hh = tanh(x W_h + (r * h) U_h + b_h),
    h' = z * h + (1 - z) * hh, hs(x) = clip(0.2 x + 0.5, 0, 1), h_0 = 0."""

    def __init__(self, input_size, hidden_size, return_sequences):
        super().__init__()
        self.return_sequences = return_sequences
        for gate in "zrh":
            setattr(self, "W_" + gate, tnn.Parameter(torch.empty(input_size, hidden_size)))
            setattr(self, "U_" + gate, tnn.Parameter(torch.empty(hidden_size, hidden_size)))
            setattr(self, "b_" + gate, tnn.Parameter(torch.zeros(hidden_size)))
        bound = 1.0 / hidden_size ** 0.5
        for name, p in self.named_parameters():
            tnn.init.uniform_(p, -bound, bound)

    def forward(self, x):
        hs = lambda v: torch.clamp(0.2 * v + 0.5, 0.0, 1.0)
        xz, xr, xh = x @ self.W_z + self.b_z, x @ self.W_r + self.b_r, x @ self.W_h + self.b_h
        h = x.new_zeros(x.shape[0], self.U_z.shape[0])
        seq = []
        for t in range(x.shape[1]):
            z = hs(xz[:, t] + h @ self.U_z)
            r = hs(xr[:, t] + h @ self.U_r)
            hh = torch.tanh(xh[:, t] + (r * h) @ self.U_h)
            h = z * h + (1.0 - z) * hh
            seq.append(h)
        return torch.stack(seq, dim=1) if self.return_sequences else h


class Permute(tnn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.permute(*self.dims)


class Reshape(tnn.Module):
    """(N, ...) -> (N, shape...), the batch kept (mtag Reshape)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


class Twin(tnn.Module):
    """Stages in order, then the output Linear; `view` reshapes the batch like mtag's TaggingModel."""

    def __init__(self, view, stages, output_name, embedding, n_tags, taps=None, tap_pool="max"):
        super().__init__()
        self.tap_pool = tap_pool  # "max": over time (sample_cnn), "mean": over all axes after C (compact)
        self.view_shape = view
        self.order = []
        for name, module in stages:
            setattr(self, name, module)
            self.order.append(name)
        self.output_name = output_name
        setattr(self, output_name, tnn.Linear(embedding, n_tags))
        self.taps = taps or []

    def embed(self, x):
        x = x.reshape((x.shape[0],) + tuple(self.view_shape))
        tapped = []
        for name in self.order:
            if name == "pool" and self.taps:
                if self.tap_pool == "max":
                    x = torch.cat([t.amax(dim=2) for t in tapped], dim=1)
                else:
                    x = torch.cat([t.mean(dim=tuple(range(2, t.dim()))) for t in tapped], dim=1)
                continue
            x = getattr(self, name)(x)
            if name in self.taps:
                tapped.append(x)
        return x

    def forward(self, x):
        return getattr(self, self.output_name)(self.embed(x))


def build_twin(preset, o, n_tags):
    stages = []
    if preset == "cnn1d":
        cin = o["n_mels"]
        for i, (c, k, p) in enumerate(zip(o["channels"], o["kernel_sizes"], o["pools"])):
            stages.append((f"layer{i + 1}", conv_block(1, cin, c, k, 1, o["padding"], p, o["batch_norm"], o["activation"])))
            cin = c
        pool = {"mean_max": MeanMax(), "mean": GlobalMean(), "max": GlobalMax()}[o["global_pool"]]
        stages.append(("pool", pool))
        feats = 2 * cin if o["global_pool"] == "mean_max" else cin
        for i, d in enumerate(o["dense"]):
            stages += [(f"dense{i + 1}", tnn.Linear(feats, d)), (f"{o['activation']}{i + 1}", act(o["activation"]))]
            if o["dropout"] > 0:
                stages.append((f"dropout{i + 1}", tnn.Dropout(o["dropout"])))
            feats = d
        return Twin([o["n_mels"], -1], stages, f"dense{len(o['dense']) + 1}", feats, n_tags)
    if preset in ("fcn4", "fcn5", "choi2016_cnn"):
        eps = o.get("bn_eps", 1e-5)
        if o["input_bn"]:
            time = o.get("input_bn_axis", "channels") == "time"
            stages.append(("spec_bn", TimeBatchNorm(o["input_frames"], eps=eps) if time else tnn.BatchNorm2d(1, eps=eps)))
        cin, k = 1, o["kernel_size"]
        for i, (c, p) in enumerate(zip(o["channels"], o["pools"])):
            stages.append((f"layer{i + 1}", conv_block(2, cin, c, k, 1, k // 2, tuple(p), o["batch_norm"], o["activation"], eps)))
            cin = c
        stages.append(("pool", GlobalMax()))
        if o["dropout"] > 0:
            stages.append(("dropout", tnn.Dropout(o["dropout"])))
        return Twin([1, o["n_mels"], -1], stages, "dense", cin, n_tags)
    if preset in ("short_chunk_cnn", "short_chunk_resnet"):
        if o["input_bn"]:
            stages.append(("spec_bn", tnn.BatchNorm2d(1)))
        cin, p = 1, o["pool"]
        for i, c in enumerate(o["channels"]):
            block = ResBlock2d(cin, c, p) if o["residual"] else conv_block(2, cin, c, 3, 1, 1, (p, p))
            stages.append((f"layer{i + 1}", block))
            cin = c
        stages.append(("pool", GlobalMax()))
        feats = cin
        if o["dense"] > 0:
            stages += [("dense1", tnn.Linear(cin, o["dense"])), ("bn", tnn.BatchNorm1d(o["dense"])), ("relu", tnn.ReLU())]
            feats = o["dense"]
        if o["dropout"] > 0:
            stages.append(("dropout", tnn.Dropout(o["dropout"])))
        return Twin([1, o["n_mels"], -1], stages, "dense2" if o["dense"] > 0 else "dense", feats, n_tags)
    if preset in ("sample_cnn", "sample_cnn_se"):
        s = o["first_stride"]
        stages.append(("layer1", conv_block(1, 1, o["first_channels"], s, s, 0, 1)))
        cin, outputs = o["first_channels"], []
        for i, c in enumerate(o["channels"]):
            block = conv_block(1, cin, c, o["kernel_size"], 1, o["kernel_size"] // 2, o["pool"])
            if o["block"] == "se":
                block.se = SqueezeExcitation(c, o["se_ratio"] * c)
                block.order.append("se")
            stages.append((f"layer{i + 2}", block))
            outputs.append((f"layer{i + 2}", c))
            cin = c
        if o["final_channels"] > 0:
            name = f"layer{len(o['channels']) + 2}"
            stages.append((name, conv_block(1, cin, o["final_channels"], 1, 1, 0, 1)))
            outputs.append((name, o["final_channels"]))
            cin = o["final_channels"]
        taps, feats = [], cin
        if o["multi_level"] > 0:
            taps = [n for n, _ in outputs[-o["multi_level"]:]]
            feats = sum(c for _, c in outputs[-o["multi_level"]:])
            stages.append(("pool", tnn.Identity()))
        else:
            stages.append(("pool", GlobalMax()))
        if o["dense"] > 0:
            stages += [("dense1", tnn.Linear(feats, o["dense"])), ("bn", tnn.BatchNorm1d(o["dense"])), ("relu", tnn.ReLU())]
            feats = o["dense"]
        if o["dropout"] > 0:
            stages.append(("dropout", tnn.Dropout(o["dropout"])))
        return Twin([1, -1], stages, "dense2" if o["dense"] > 0 else "dense", feats, n_tags, taps)
    if preset in ("crnn", "choi2016_crnn"):
        eps, pad = o["bn_eps"], o["time_padding"]
        if pad > 0:
            stages.append(("pad", tnn.ZeroPad2d((pad, pad, 0, 0))))
        if o["input_bn"] == "time":
            stages.append(("bn0", TimeBatchNorm(o["input_frames"] + 2 * pad, eps=eps)))
        elif o["input_bn"] == "channels":
            stages.append(("bn0", tnn.BatchNorm2d(1, eps=eps)))
        cin, h, w = 1, o["n_mels"], o["input_frames"] + 2 * pad
        for i, (c, p) in enumerate(zip(o["channels"], o["pools"])):
            stages.append((f"layer{i + 1}", conv_block(2, cin, c, 3, 1, 1, tuple(p), True, o["activation"], eps,
                                                       o["conv_dropout"])))
            cin, h, w = c, h // p[0], w // p[1]
        # (N, C, H, W) -> (N, W, C, H) -> (N, W steps, C*H features): Keras's Permute((3, 1, 2)) + Reshape.
        stages += [("permute", Permute((0, 3, 1, 2))), ("reshape", Reshape((w, cin * h)))]
        GRU = {"pytorch": TorchGRU, "keras1": Keras1GRU}[o["gru_convention"]]
        feats, units = cin * h, o["gru_units"]
        for i, u in enumerate(units):
            stages.append((f"gru{i + 1}", GRU(feats, u, i + 1 < len(units))))
            feats = u
        if o["dropout"] > 0:
            stages.append(("dropout", tnn.Dropout(o["dropout"])))
        return Twin([1, o["n_mels"], -1], stages, "dense", feats, n_tags)
    if preset == "choi2017_compact":
        stages.append(("melgram", DftMelgramTwin(o["n_dft"], o["hop_length"], o["n_mels"])))
        activation = o["activation"] if isinstance(o["activation"], str) else o["activation"]["name"]
        cin, taps = 1, []
        for i, (c, p) in enumerate(zip(o["channels"], o["pools"])):
            block = conv_block(2, cin, c, 3, 1, 1, tuple(p), True, activation, o["bn_eps"])
            if o["batch_stats_in_eval"]:
                block.bn = Mode2BatchNorm2d(c, eps=o["bn_eps"])
            stages.append((f"layer{i + 1}", block))
            taps.append(f"layer{i + 1}")
            cin = c
        stages.append(("pool", tnn.Identity()))
        return Twin([1, -1], stages, "dense", sum(o["channels"]), n_tags, taps, tap_pool="mean")
    raise SystemExit(f"no twin for preset {preset}")


def input_shape(o, batch):
    if "input_samples" in o:
        return (batch, o["input_samples"])
    return (batch, o["n_mels"], o["input_frames"])


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def randomize_for_import(twin, o, seed, batch=8, passes=2):
    """Random weights with non-trivial eval-mode BatchNorm: BN weight/bias perturbed, then training-mode
    passes with cumulative averaging (momentum None) so the running statistics are the activations' own
    (batch 8: a BatchNorm1d after a dense layer sees one value per example, and two examples can give a
    near-zero variance that amplifies float32 rounding far beyond what trained weights do)."""
    torch.manual_seed(seed)
    bns = [m for m in twin.modules() if isinstance(m, tnn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.7, 1.3)
            m.bias.normal_(0.0, 0.2)
            m.momentum = None
        twin.train()
        for _ in range(passes):
            twin(torch.randn(input_shape(o, batch)))
    for m in bns:
        m.momentum = 0.1
    twin.eval()


def via_import(args, work):
    """PyTorch twin -> upstream-named .pth -> import_pytorch.py -> mtag model import -> mtag model forward."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import import_pytorch as ip
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import_pytorch.py")
    tol = args.tol if args.tol is not None else 1e-5
    extra = ["--options", args.options] if args.options else []
    # The round trip checks names, layouts and conventions; Winograd's reassociated sums (mtag's default for
    # 3x3 / 1x3 convs, nn/layers/winograd.hpp) add ~1e-5 on deep nets, so the forward uses GEMM convs unless
    # --conv-algo says otherwise.
    env = dict(os.environ, MTAG_CONV_ALGO=args.conv_algo)
    failures = 0
    print(f"{'preset':20s} {'saved as':38s} {'tensors':>7s} {'max|dlogit|':>12s} {'max|demb|':>11s} {'max|logit|':>11s} "
          f"{'torch f32':>11s}  result")
    for k, preset in enumerate(args.presets):
        d = os.path.join(work, preset)
        os.makedirs(d, exist_ok=True)
        shown = json.loads(run([args.mtag, "model", "show", preset, "--json", "--n-tags", str(args.n_tags)] + extra))
        o = shown["options"]
        twin = build_twin(preset, o, args.n_tags)
        randomize_for_import(twin, o, args.seed + k)
        state = {n: t.clone() for n, t in twin.state_dict().items()}
        upstream = preset in ip.UPSTREAM
        saved = ip.to_upstream(preset, state) if upstream else dict(state)
        how = f"sota {ip.UPSTREAM[preset]['class']}" if upstream else "mtag names"
        if k % 3 == 1:
            saved, how = {"state_dict": saved}, how + " {'state_dict'}"
        elif k % 3 == 2:
            saved, how = {"module." + n: t for n, t in saved.items()}, how + " 'module.'"
        pth = os.path.join(d, "upstream.pth")
        torch.save(saved, pth)
        tags = os.path.join(d, "tags.txt")
        with open(tags, "w") as f:
            f.write("".join(f"tag {i}\n" for i in range(args.n_tags)))
        st = os.path.join(d, "weights.safetensors")
        log = run([sys.executable, script, pth, "--preset", preset, "--out", st, "--tags", tags, "--mtag", args.mtag] + extra)
        if args.verbose:
            print(log, end="")
        model_dir = os.path.join(d, "model")
        if os.path.isdir(model_dir):
            for f in os.listdir(model_dir):
                os.remove(os.path.join(model_dir, f))
        run([args.mtag, "model", "import", "--from", "safetensors", "--arch", preset, st, "--out", model_dir,
             "--tags", tags] + extra)
        card = json.load(open(os.path.join(model_dir, "model.json")))
        card = card.get("metadata", card)  # the run card (tags, features, ...) sits under "metadata"
        rng = np.random.default_rng(args.seed + 7)
        x = rng.standard_normal(input_shape(o, args.batch)).astype(np.float32)
        write_safetensors(os.path.join(d, "input.safetensors"), {"input": x})
        run([args.mtag, "--threads", str(args.threads), "model", "forward", "--model", model_dir,
             "--input", os.path.join(d, "input.safetensors"), "--out", os.path.join(d, "output.safetensors")], env)
        got = read_safetensors(os.path.join(d, "output.safetensors"))
        with torch.no_grad():
            xt = torch.from_numpy(x)
            emb = twin.embed(xt).numpy()
            logits = twin(xt).numpy()
            # float32 rounding of torch itself: the twin in float64 (context for the tolerance)
            noise = float(np.abs(copy.deepcopy(twin).double()(xt.double()).numpy() - logits).max())
        dl = float(np.abs(got["logits"] - logits).max())
        de = float(np.abs(got["embedding"] - emb).max())
        n_tensors = len(read_safetensors(st))
        tags_ok = len(card.get("tags", [])) == args.n_tags
        ok = dl <= tol and de <= 10 * tol * max(1.0, float(np.abs(emb).max())) and tags_ok
        failures += 0 if ok else 1
        print(f"{preset:20s} {how:38s} {n_tensors:>7d} {dl:>12.2e} {de:>11.2e} {float(np.abs(logits).max()):>11.3f} "
              f"{noise:>11.2e}  {'ok' if ok else 'FAIL'}{'' if tags_ok else ' (tags missing from model.json)'}")
        if preset == "sample_cnn":
            # Won et al.'s Conv_1d pads layer1 (k3 s3) by 1; mtag's sample_cnn (Lee et al.) does not.
            conv = twin.layer1.conv
            with torch.no_grad():
                conv.padding = (1,)
                won = twin(torch.from_numpy(x)).numpy()
                conv.padding = (0,)
            print(f"{'':20s} note: in Won et al.'s SampleCNN (layer1 conv padding 1, i.e. the input one sample "
                  f"later) these weights give logits {float(np.abs(won - logits).max()):.2e} away on this noise input")
    print(f"tolerance {tol:g} absolute on logits (embedding, a sanity bound: 10x that, times its largest value when "
          f"> 1); 'torch f32' = "
          f"max |twin float32 - twin float64| logit, torch's own rounding; MTAG_CONV_ALGO={args.conv_algo}; batch "
          f"{args.batch}; {args.threads} threads; files in {work}")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("presets", nargs="*", default=PRESETS)
    ap.add_argument("--mtag", default=os.path.join(os.path.dirname(__file__), "..", "build", "mtag"))
    ap.add_argument("--tol", type=float, default=None, help="absolute (default 1e-4; 1e-5 with --via-import)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=None, help="default 2 (1 with --via-import)")
    ap.add_argument("--n-tags", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--params-only", action="store_true", help="only print the twins' parameter counts")
    ap.add_argument("--workdir", default=None, help="keep model directories here (default: a temp dir)")
    ap.add_argument("--via-import", action="store_true",
                    help="PyTorch -> mtag: upstream-named state_dict -> import_pytorch.py -> mtag model import")
    ap.add_argument("--options", default=None, help="JSON option overrides for every preset checked")
    ap.add_argument("--verbose", action="store_true", help="--via-import: show import_pytorch.py's output")
    ap.add_argument("--conv-algo", default="gemm", choices=["gemm", "auto", "winograd_f2", "winograd_f4"],
                    help="--via-import: MTAG_CONV_ALGO for mtag model forward (default gemm: see via_import)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # --threads is for mtag; torch stays on one core
    if args.batch is None:
        args.batch = 1 if args.via_import else 2
    if args.via_import:
        return via_import(args, args.workdir or tempfile.mkdtemp(prefix="mtag_import_check_"))
    if args.tol is None:
        args.tol = 1e-4
    extra = ["--options", args.options] if args.options else []

    if args.params_only:
        for preset in args.presets:
            shown = json.loads(run([args.mtag, "model", "show", preset, "--json", "--n-tags", str(args.n_tags)] + extra))
            twin = build_twin(preset, shown["options"], args.n_tags)
            print(f"{preset:20s} twin {sum(p.numel() for p in twin.parameters()):>12,d}   mtag {shown['parameters']:>12,d}")
        return 0

    work = args.workdir or tempfile.mkdtemp(prefix="mtag_export_check_")
    failures = 0
    print(f"{'preset':20s} {'params (torch)':>15s} {'params (mtag)':>14s} {'max|dlogit|':>12s} {'max|demb|':>11s} "
          f"{'max|logit|':>11s}  result")
    for preset in args.presets:
        d = os.path.join(work, preset)
        run([args.mtag, "--threads", str(args.threads), "--seed", str(args.seed), "model", "init", preset, "--out", d,
             "--n-tags", str(args.n_tags), "--bn-warmup", "2"] + extra)
        card = json.load(open(os.path.join(d, "model.json")))
        arch = card["architecture"]
        twin = build_twin(preset, arch["options"], arch["n_tags"])
        weights = {k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(d, "model.safetensors")).items()}
        missing, unexpected = twin.load_state_dict(weights, strict=False)
        if missing or unexpected:
            print(f"{preset:20s} NAME MISMATCH missing={missing[:5]} unexpected={unexpected[:5]}")
            failures += 1
            continue
        twin.load_state_dict(weights, strict=True)
        twin.eval()
        rng = np.random.default_rng(args.seed + 7)
        x = rng.standard_normal(input_shape(arch["options"], args.batch)).astype(np.float32)
        write_safetensors(os.path.join(d, "input.safetensors"), {"input": x})
        run([args.mtag, "--threads", str(args.threads), "model", "forward", "--model", d,
             "--input", os.path.join(d, "input.safetensors"), "--out", os.path.join(d, "output.safetensors")])
        got = read_safetensors(os.path.join(d, "output.safetensors"))
        with torch.no_grad():
            xt = torch.from_numpy(x)
            emb = twin.embed(xt).numpy()
            logits = twin(xt).numpy()
        dl = float(np.abs(got["logits"] - logits).max())
        de = float(np.abs(got["embedding"] - emb).max())
        n_torch = sum(p.numel() for p in twin.parameters())
        n_mtag = json.loads(run([args.mtag, "model", "show", preset, "--json", "--n-tags", str(args.n_tags)] + extra))["parameters"]
        ok = dl <= args.tol and de <= args.tol and n_torch == n_mtag
        failures += 0 if ok else 1
        print(f"{preset:20s} {n_torch:>15,d} {n_mtag:>14,d} {dl:>12.2e} {de:>11.2e} {float(np.abs(logits).max()):>11.3f}  "
              f"{'ok' if ok else 'FAIL'}")
    print(f"tolerance {args.tol:g} absolute; batch {args.batch}; {args.threads} threads; models in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
