#!/usr/bin/python3
"""Converts a PyTorch state_dict into a safetensors file with mtag's parameter names, for
`mtag model import --from safetensors --arch PRESET W.safetensors --out DIR`.

Usage: scripts/import_pytorch.py STATE.pth --preset PRESET --out W.safetensors [--tags tags.txt] [--options JSON]

STATE.pth is what torch.load returns: a state_dict, a dict wrapping one ({'state_dict': ...}, {'model': ...}
as sota-music-tagging-models' Solver.save writes, {'model_state_dict': ...}), or a whole nn.Module. A
'module.' prefix (DataParallel) or '_orig_mod.' (torch.compile) is stripped.

Names accepted
  * mtag's own names (a PyTorch twin of scripts/export_check.py, or a model trained elsewhere under them):
    passed through, after the checks below.
  * Won et al.'s sota-music-tagging-models (github.com/minzwon/sota-music-tagging-models, training/model.py):
        FCN               -> fcn5
        ShortChunkCNN     -> short_chunk_cnn
        ShortChunkCNN_Res -> short_chunk_resnet
        SampleCNN         -> sample_cnn
        CRNN              -> crnn (layer5 = nn.GRU(128, 32, 2) becomes gru1 + gru2; see the warning printed)
    Their parameter names are mtag's already except the CRNN's two-layer GRU; the torchaudio front end
    (spec.spectrogram.window, spec.mel_scale.fb, any other spec.* / to_db.*) is dropped: mtag computes
    features itself, as the preset's front end says.
    Won et al.'s SampleCNNSE is NOT mtag's sample_cnn_se (theirs: residual ReSE blocks conv_1/conv_2/conv_3
    with an SE of ratio 1 and a k1 layer11; mtag's: Kim et al.'s resemul SE blocks with ratio 16 and
    multi-level aggregation): such a file is refused with that explanation.

Checks (the definitive one is `mtag model import`, which compares every name and shape with the model):
every name must be one the preset family has; BatchNorm weight/bias/running stats agree in size; each
conv block's input channels are the previous block's outputs; GRU gates are 3H (pytorch) or H (keras1)
and chain; the output layer is (n_tags, features) and n_tags equals the --tags count. When an mtag binary
is at hand (--mtag, default build/mtag), also every name and shape exactly: the preset's options from
`mtag model show` (plus --options) build scripts/export_check.py's twin, whose state_dict must match. Floating tensors
are written F32 (with a note when they were not float32), num_batches_tracked I64.

__metadata__: {"preset", "source" (file name), "upstream" (which naming was found), "tags" (JSON list,
with --tags), "options" (JSON, with --options)}; mtag model import reads "tags" and keeps the rest as
provenance. --options is NOT applied by mtag model import: pass the same --options to it (the command to
run is printed).

Needs only python3-torch (Debian's /usr/bin/python3); the exact check also imports export_check.py (numpy).
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

import torch

torch.set_num_threads(1)

# ---------------------------------------------------------------- mtag's names per preset family
BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
WB = r"(weight|bias)"
FAMILY = {
    "cnn1d": "cnn1d", "fcn4": "fcn", "fcn5": "fcn", "choi2016_cnn": "fcn",
    "short_chunk_cnn": "short_chunk", "short_chunk_resnet": "short_chunk",
    "sample_cnn": "sample_cnn", "sample_cnn_se": "sample_cnn",
    "crnn": "crnn", "choi2016_crnn": "crnn",
}
NAMES = {
    "cnn1d": [rf"layer\d+\.conv\.{WB}", rf"layer\d+\.bn\.{BN}", rf"dense\d+\.{WB}"],
    "fcn": [rf"spec_bn\.{BN}", rf"layer\d+\.conv\.{WB}", rf"layer\d+\.bn\.{BN}", rf"dense\.{WB}"],
    "short_chunk": [rf"spec_bn\.{BN}", rf"layer\d+\.conv(_[123])?\.{WB}", rf"layer\d+\.bn(_[123])?\.{BN}",
                    rf"dense[12]?\.{WB}", rf"bn\.{BN}"],
    "sample_cnn": [rf"layer\d+\.conv\.{WB}", rf"layer\d+\.bn\.{BN}", rf"layer\d+\.se\.fc[12]\.{WB}",
                   rf"dense[12]?\.{WB}", rf"bn\.{BN}"],
    "crnn": [rf"bn0\.{BN}", rf"layer\d+\.conv\.{WB}", rf"layer\d+\.bn\.{BN}",
             r"gru\d+\.(weight|bias)_(ih|hh)_l0", r"gru\d+\.[WUb]_[zrh]", rf"dense\.{WB}"],
}

# ---------------------------------------------------------------- upstream (sota-music-tagging-models) names
# Front-end modules of Won et al.'s models (torchaudio MelSpectrogram / AmplitudeToDB): buffers only.
FRONT_END = re.compile(r"^(spec|to_db)\.")
UPSTREAM = {
    "fcn5": {"class": "FCN"},
    "short_chunk_cnn": {"class": "ShortChunkCNN"},
    "short_chunk_resnet": {"class": "ShortChunkCNN_Res"},
    "sample_cnn": {
        "class": "SampleCNN",
        "warning": "Won et al.'s SampleCNN pads layer1's stride-3 conv by 1 (modules.py Conv_1d, padding = "
                   "shape // 2) where mtag's sample_cnn does not (Lee et al.'s Keras 'valid'): the same weights see "
                   "the waveform one sample later in mtag, so scores differ slightly from the reference; and Won "
                   "et al. feed 16 kHz audio while the preset's front end says 22050 Hz (edit model.json's "
                   "features.sample_rate after import).",
    },
    "crnn": {
        "class": "CRNN",
        # nn.GRU(128, 32, num_layers=2): layer k of it is mtag's gru(k+1), a one-layer torch GRU.
        "rename": [(re.compile(r"^layer5\.(weight|bias)_(ih|hh)_l(\d+)$"),
                    lambda m: f"gru{int(m.group(3)) + 1}.{m.group(1)}_{m.group(2)}_l0")],
        "inverse": [(re.compile(r"^gru(\d+)\.(weight|bias)_(ih|hh)_l0$"),
                     lambda m: f"layer5.{m.group(2)}_{m.group(3)}_l{int(m.group(1)) - 1}")],
        "options": {"activation": "relu", "input_frames": 1813, "conv_dropout": 0.0, "dropout": 0.5},
        "warning": "Won et al.'s CRNN uses ReLU, no conv dropout, 29 s at 16 kHz (1813 frames): pass --options "
                   "'{\"activation\": \"relu\", \"input_frames\": 1813, \"conv_dropout\": 0, \"dropout\": 0.5}' to "
                   "mtag model import. Its front end (16 kHz, HTK mel 0-8 kHz, power dB) is NOT the crnn preset's "
                   "(Choi et al.'s 12 kHz slaney mel): edit model.json's features after import before tagging audio.",
    },
}
# Won et al.'s SampleCNNSE: ResSE_1d blocks (conv_1, bn_1, conv_2, bn_2, dense1, dense2, conv_3, bn_3).
WON_SAMPLECNNSE = re.compile(r"^layer\d+\.(conv_[123]|bn_[123]|dense[12])\.")


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------- loading
def load_state_dict(path):
    """torch.load, unwrapped to a flat {name: tensor} with DataParallel/compile prefixes removed."""
    obj = torch.load(path, map_location="cpu")
    return unwrap(obj)


def unwrap(obj):
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for _ in range(4):
        if isinstance(obj, dict) and not any(torch.is_tensor(v) for v in obj.values()):
            for key in ("state_dict", "model_state_dict", "model", "net", "module"):
                if key in obj:
                    obj = obj[key]
                    if isinstance(obj, torch.nn.Module):
                        obj = obj.state_dict()
                    break
            else:
                raise ConversionError("found a dict without tensors and without a 'state_dict'/'model' entry "
                                   f"(keys: {sorted(obj)[:10]})")
    if not isinstance(obj, dict):
        raise ConversionError(f"expected a state_dict, got {type(obj).__name__}")
    state = {}
    for name, value in obj.items():
        if not torch.is_tensor(value):
            print(f"skipped  {name} (not a tensor: {type(value).__name__})")
            continue
        for prefix in ("module.", "_orig_mod."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        state[name] = value
    return state


def read_tags(path):
    """One tag per non-empty line (trailing spaces and CR dropped), as mtag's read_tag_file."""
    tags = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n").rstrip(" \r")
            if line:
                tags.append(line)
    return tags


# ---------------------------------------------------------------- mapping
def is_mtag_name(preset, name):
    return any(re.fullmatch(p, name) for p in NAMES[FAMILY[preset]])


def to_mtag(preset, state, log=print):
    """(mtag-named state, which naming was found). Prints each rename/drop through `log`."""
    if preset not in FAMILY:
        raise ConversionError(f"unknown preset {preset!r}; known: {', '.join(FAMILY)}")
    up = UPSTREAM.get(preset, {})
    if FAMILY[preset] == "sample_cnn" and any(WON_SAMPLECNNSE.match(n) for n in state):
        raise ConversionError(
            "these are the names of Won et al.'s SampleCNNSE (ResSE_1d blocks: conv_1/bn_1, conv_2/bn_2, SE "
            "dense1/dense2 of ratio 1, residual conv_3/bn_3, k1 layer11). mtag's sample_cnn_se is a different "
            "network (Kim et al.'s resemul: conv/bn/relu/mp + SE fc1/fc2 of ratio 16, multi-level aggregation, "
            "dense1 1024); mtag has no preset for Won et al.'s variant, so these weights cannot be imported.")
    out, renamed, dropped = {}, [], []
    for name, value in state.items():
        if FRONT_END.match(name):
            dropped.append(name)
            continue
        new = name
        for pattern, repl in up.get("rename", []):
            m = pattern.match(name)
            if m:
                new = repl(m)
                break
        if new != name:
            renamed.append((name, new))
        if new in out:
            raise ConversionError(f"two tensors map to {new!r}")
        out[new] = value
    for name in dropped:
        log(f"dropped  {name}  (torchaudio front end: mtag computes the features itself)")
    for old, new in renamed:
        log(f"renamed  {old} -> {new}")
    if dropped or renamed:
        naming = f"sota-music-tagging-models {up.get('class', '?')}"
    else:
        naming = "mtag"
    if naming == "mtag" and up:
        naming = f"mtag (= sota-music-tagging-models {up['class']})"
    return out, naming


def to_upstream(preset, state, front_end=True):
    """The inverse of to_mtag for Won et al.'s presets (test helper): mtag names -> upstream names, plus the
    torchaudio front-end buffers their models carry (dummy values of the right shapes)."""
    up = UPSTREAM.get(preset)
    if up is None:
        return dict(state)
    out = {}
    for name, value in state.items():
        new = name
        for pattern, repl in up.get("inverse", []):
            m = pattern.match(name)
            if m:
                new = repl(m)
                break
        out[new] = value
    if front_end and up["class"] != "SampleCNN":
        out["spec.spectrogram.window"] = torch.hann_window(512)
        out["spec.mel_scale.fb"] = torch.rand(257, 96)
    return out


# ---------------------------------------------------------------- validation
def validate(preset, state, n_tags=None):
    """Raises ConversionError on names the preset family lacks or inconsistent shapes. Returns n_tags."""
    unknown = [n for n in state if not is_mtag_name(preset, n)]
    if unknown:
        raise ConversionError(f"{len(unknown)} tensor(s) are neither mtag's {preset} names nor a known upstream "
                           f"naming of it: {unknown[:8]}{' ...' if len(unknown) > 8 else ''}")
    shape = {n: tuple(v.shape) for n, v in state.items()}
    problems = []
    # BatchNorm groups.
    for n in [n for n in state if n.endswith(".running_mean")]:
        base = n[: -len(".running_mean")]
        size = shape[n]
        if len(size) != 1:
            problems.append(f"{n} has shape {size}, expected 1-D")
        for k in ("weight", "bias", "running_var"):
            if base + "." + k in shape and shape[base + "." + k] != size:
                problems.append(f"{base}.{k} has shape {shape[base + '.' + k]}, {n} has {size}")
        if base + ".num_batches_tracked" in shape and shape[base + ".num_batches_tracked"] not in ((), (1,)):
            problems.append(f"{base}.num_batches_tracked has shape {shape[base + '.num_batches_tracked']}, expected ()")
    # Conv blocks layer1, layer2, ...: each block's input channels are the previous block's outputs.
    layers = sorted({int(m.group(1)) for n in state for m in [re.match(r"layer(\d+)\.", n)] if m})
    prev_out = None
    for i in layers:
        conv_in = shape.get(f"layer{i}.conv.weight", shape.get(f"layer{i}.conv_1.weight"))
        conv_out = shape.get(f"layer{i}.conv.weight", shape.get(f"layer{i}.conv_2.weight"))
        if conv_in is None or conv_out is None:
            problems.append(f"layer{i} has no conv weight")
            continue
        if prev_out is not None and conv_in[1] != prev_out:
            problems.append(f"layer{i} takes {conv_in[1]} channels but layer{i - 1} gives {prev_out}")
        for conv, bn in (("conv", "bn"), ("conv_1", "bn_1"), ("conv_2", "bn_2"), ("conv_3", "bn_3")):
            w = shape.get(f"layer{i}.{conv}.weight")
            if w is None:
                continue
            if shape.get(f"layer{i}.{conv}.bias", (w[0],)) != (w[0],):
                problems.append(f"layer{i}.{conv}.bias does not match {w[0]} output channels")
            b = shape.get(f"layer{i}.{bn}.weight")
            if b is not None and b != (w[0],):
                problems.append(f"layer{i}.{bn} has {b[0]} features, layer{i}.{conv} {w[0]} channels")
        prev_out = conv_out[0]
    # GRUs.
    grus = sorted({int(m.group(1)) for n in state for m in [re.match(r"gru(\d+)\.", n)] if m})
    prev_h = None
    for i in grus:
        g = f"gru{i}."
        if g + "weight_ih_l0" in shape:
            h3, f = shape[g + "weight_ih_l0"]
            if h3 % 3:
                problems.append(f"{g}weight_ih_l0 rows {h3} are not 3 x hidden")
            h = h3 // 3
            want = {"weight_hh_l0": (h3, h), "bias_ih_l0": (h3,), "bias_hh_l0": (h3,)}
        elif g + "W_z" in shape:
            f, h = shape[g + "W_z"]
            want = {f"{k}_{z}": s for z in "zrh" for k, s in (("W", (f, h)), ("U", (h, h)), ("b", (h,)))}
        else:
            problems.append(f"gru{i} has neither weight_ih_l0 (pytorch) nor W_z (keras1)")
            continue
        for k, s in want.items():
            if shape.get(g + k) != s:
                problems.append(f"{g}{k} has shape {shape.get(g + k)}, expected {s}")
        if prev_h is not None and f != prev_h:
            problems.append(f"gru{i} takes {f} features but gru{i - 1} gives {prev_h}")
        prev_h = h
    # Output layer: the last denseK (or dense).
    dense = sorted([n for n in state if re.fullmatch(r"dense\d*\.weight", n)],
                   key=lambda n: int(re.sub(r"\D", "", n) or 0))
    if not dense:
        problems.append("no output layer (dense.weight / dense2.weight)")
        out_rows = None
    else:
        out = dense[-1]
        out_rows = shape[out][0] if len(shape[out]) == 2 else None
        if out_rows is None:
            problems.append(f"{out} has shape {shape[out]}, expected (n_tags, features)")
        if shape.get(out[: -len("weight")] + "bias") != (out_rows,):
            problems.append(f"{out[:-len('weight')]}bias does not match {out_rows} outputs")
        if prev_h is not None and out_rows is not None and shape[out][1] != prev_h:
            problems.append(f"{out} takes {shape[out][1]} features but the last GRU gives {prev_h}")
        if n_tags is not None and out_rows is not None and out_rows != n_tags:
            problems.append(f"the output layer {out} has {out_rows} rows but {n_tags} tags were given")
    for n, v in state.items():
        if not (v.is_floating_point() or (n.endswith("num_batches_tracked") and not v.is_complex())):
            problems.append(f"{n} has dtype {v.dtype}, expected a float tensor")
    if problems:
        raise ConversionError("inconsistent tensors:\n  " + "\n  ".join(problems))
    return out_rows


def check_against_twin(preset, state, n_tags, options, mtag, log=print):
    """Exact names and shapes, when an mtag binary is at hand: the preset's options from `mtag model show`
    (with --options), the PyTorch twin of scripts/export_check.py built from them, its state_dict compared
    with `state` (num_batches_tracked may be absent, as for mtag model import)."""
    cmd = [mtag, "model", "show", preset, "--json", "--n-tags", str(n_tags)]
    if options:
        cmd += ["--options", json.dumps(options)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        log(f"note     exact check skipped: {' '.join(cmd[1:4])} failed: {r.stderr.strip()[:200]}")
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import export_check
    twin = export_check.build_twin(preset, json.loads(r.stdout)["options"], n_tags)
    want = {n: tuple(t.shape) for n, t in twin.state_dict().items()}
    missing = [n for n in want if n not in state and not n.endswith("num_batches_tracked")]
    unexpected = [n for n in state if n not in want]
    shapes = [f"{n} {tuple(state[n].shape)} (expected {want[n]})" for n in want
              if n in state and tuple(state[n].shape) != want[n]]
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
            if items:
                parts.append(f"{label} ({len(items)}): {', '.join(items[:6])}{' ...' if len(items) > 6 else ''}")
        raise ConversionError(f"does not fit {preset}" + (f" with options {json.dumps(options)}" if options else "") +
                              " (names and shapes from `mtag model show` and scripts/export_check.py's twin):\n  " +
                              "\n  ".join(parts))
    log(f"checked  every name and shape against {preset}'s twin ({len(want)} tensors, options from mtag model show)")


# ---------------------------------------------------------------- safetensors (format spec, no library)
def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: torch tensor}; num_batches_tracked (and any integer tensor) as I64, the rest F32."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.is_floating_point():
            t, dtype = t.to(torch.float32), "F32"
        else:
            t, dtype = t.to(torch.int64), "I64"
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def convert(state_path, preset, out, tags=None, options=None, log=print, mtag=None):
    """The whole conversion; returns a summary dict. With `mtag` (a binary), names and shapes are also
    checked exactly against the preset (check_against_twin)."""
    state, naming = to_mtag(preset, load_state_dict(state_path), log)
    n_tags = validate(preset, state, len(tags) if tags else None)
    if mtag:
        check_against_twin(preset, state, n_tags, options, mtag, log)
    widened = sorted({str(v.dtype) for v in state.values() if v.is_floating_point() and v.dtype != torch.float32})
    if widened:
        log(f"note     floating tensors of dtype {', '.join(widened)} written as float32")
    metadata = {"preset": preset, "source": os.path.basename(state_path), "upstream": naming,
                "converted_by": "scripts/import_pytorch.py"}
    if tags:
        metadata["tags"] = json.dumps(tags)
    if options:
        metadata["options"] = json.dumps(options, sort_keys=True)
    write_safetensors(out, state, metadata)
    n_params = sum(v.numel() for n, v in state.items() if not re.search(r"running_|num_batches", n))
    return {"out": out, "preset": preset, "naming": naming, "tensors": len(state), "parameters": n_params,
            "n_tags": n_tags}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state", help="torch.load-able file: a state_dict, {'state_dict': ...}, or an nn.Module")
    ap.add_argument("--preset", required=True, help=f"mtag preset: {', '.join(FAMILY)}")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--tags", help="text file, one tag per line, in output order (stored in the metadata)")
    ap.add_argument("--options", help="JSON object of the preset options the weights were trained with "
                                      "(recorded in the metadata; give it to mtag model import too)")
    ap.add_argument("--mtag", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "mtag"),
                    help="mtag binary for the exact name/shape check (default build/mtag; skipped when absent)")
    ap.add_argument("--no-mtag", action="store_true", help="skip the exact check (structural checks only)")
    args = ap.parse_args()
    mtag = None if args.no_mtag or not os.path.isfile(args.mtag) else args.mtag
    try:
        options = json.loads(args.options) if args.options else None
        if options is not None and not isinstance(options, dict):
            raise ConversionError(f"--options must be a JSON object, got {args.options}")
        tags = read_tags(args.tags) if args.tags else None
        summary = convert(args.state, args.preset, args.out, tags, options, mtag=mtag)
    except (ConversionError, json.JSONDecodeError, OSError) as e:
        print(f"import_pytorch.py: {args.state}: {e}", file=sys.stderr)
        return 2
    up = UPSTREAM.get(args.preset, {})
    if summary["naming"].startswith("sota") and up.get("warning"):
        print(f"WARNING  {up['warning']}")
    if options is None and summary["naming"].startswith("sota") and up.get("options"):
        options = up["options"]
    print(f"wrote    {summary['out']}: {summary['tensors']} tensors, {summary['parameters']:,d} parameters, "
          f"{summary['n_tags']} outputs, names: {summary['naming']}")
    cmd = f"mtag model import --from safetensors --arch {args.preset} {summary['out']} --out DIR"
    if not tags:
        cmd += " --tags TAGS.txt"
    if options:
        cmd += " --options '" + json.dumps(options) + "'"
    print(f"next     {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
