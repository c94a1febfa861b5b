#!/usr/bin/env python3
"""PyTorch + torchaudio reference for `mtag bench tag`: the work of `mtag tag`, done the way a
performance-minded PyTorch user would write it.

Per file: decode with soundfile (libsndfile, the decoder mtag uses) or torchaudio.load, mix to mono,
resample to the card's rate with torchaudio.transforms.Resample (its kernel built once per input rate),
cut mtag tag's non-overlapping chunk windows (card "all" layout: window (frames - 1) * hop samples, one
every frames * hop, a short file zero-padded to one window), compute the card's log-mel front end with
torchaudio.transforms.MelSpectrogram + AmplitudeToDB on a batch of windows, normalise with the card's
statistics (the benchmark's model has none), and run the same model through its PyTorch twin (scripts/export_check.py's
build_twin, weights loaded by name from model.safetensors), batched, under torch.inference_mode(), then
average the sigmoid (or softmax) scores over the chunks.

Two ways to use T threads, both measured by `mtag bench tag`, which keeps the faster:
  --mode intraop  files one after the other, torch.set_num_threads(T); the next file's decode and resample
                  run on a background thread while the model runs (what a DataLoader worker would do)
  --mode files    T Python threads each tagging whole files, torch.set_num_threads(1) (torch releases the GIL)

Writes one JSON line per file to --scores (path, duration_seconds, chunks, scores) and prints one JSON
summary line: files, audio_seconds, wall_seconds (after imports and model load), load_seconds, mode.
Exit code 3 when torch, torchaudio or soundfile cannot be imported.

Run by hand: /usr/bin/python3 scripts/bench_tag_torch.py --model MODEL_DIR --threads 2 FILE...
"""
import argparse
import json
import os
import sys
import time

try:
    import soundfile  # noqa: F401  (checked here: exit 3 without it)
    import torch
    import torchaudio  # noqa: F401  (checked here: exit 3 without it)
except ImportError as error:
    print(f"bench_tag_torch.py: {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_check import build_twin, read_safetensors  # noqa: E402  (the PyTorch twins of mtag's presets)
from torch_front_end import LogMel, for_each_file  # noqa: E402


def load_card(model_dir):
    """The model's twin (eval mode, mtag's weights) and what tagging needs from its card."""
    with open(os.path.join(model_dir, "model.json")) as f:
        card = json.load(f)
    arch = card["architecture"]
    meta = card.get("metadata", {})
    twin = build_twin(arch["preset"], arch["options"], arch["n_tags"])
    weights = {k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
    twin.load_state_dict(weights, strict=True)
    twin.eval()
    features = meta["features"]
    frames = meta.get("input", {}).get("frames") or arch["options"]["input_frames"]
    norm = meta.get("normalization") or {}
    return twin, features, int(frames), meta.get("task", "multilabel"), norm


class Tagger:
    def __init__(self, model_dir, batch, decoder):
        self.twin, features, self.frames, task, norm = load_card(model_dir)
        self.front = LogMel(features, decoder)
        self.rate, self.hop, self.batch = self.front.rate, self.front.hop, batch
        self.multilabel = task.startswith("multi")
        if norm.get("kind") not in (None, "none"):
            # The benchmark's model has none; a card's statistics would be one more cheap elementwise step.
            raise SystemExit(f"bench_tag_torch.py: normalization {norm.get('kind')} is not implemented")

    def windows(self, mono):
        """mtag tag's "all" chunk layout: non-overlapping windows, a short file padded to one."""
        n = mono.shape[0]
        total_frames = 1 + n // self.hop
        length = (self.frames - 1) * self.hop
        count = 1 if total_frames <= self.frames else total_frames // self.frames
        need = (count - 1) * self.frames * self.hop + length
        if need > n:
            mono = torch.nn.functional.pad(mono, (0, need - n))
        return mono.as_strided((count, length), (self.frames * self.hop, 1))

    def score(self, mono):
        chunks = self.windows(mono)
        total = None
        for start in range(0, chunks.shape[0], self.batch):
            x = self.front.features(chunks[start:start + self.batch])
            logits = self.twin(x)
            p = torch.sigmoid(logits) if self.multilabel else torch.softmax(logits, dim=1)
            s = p.sum(dim=0, dtype=torch.float64)
            total = s if total is None else total + s
        return (total / chunks.shape[0]).tolist(), int(chunks.shape[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--model", required=True, help="mtag model directory (model.json + model.safetensors)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mode", choices=["intraop", "files"], default="intraop")
    ap.add_argument("--batch", type=int, default=16, help="chunks per forward pass")
    ap.add_argument("--decoder", choices=["soundfile", "torchaudio"], default="soundfile")
    ap.add_argument("--scores", default=None, help="write one JSON line per file here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    threads = max(1, args.threads)
    tagger = Tagger(args.model, args.batch, args.decoder)
    results = [None] * len(args.files)
    start = time.perf_counter()

    def one(i, mono):
        scores, chunks = tagger.score(mono)
        results[i] = {"path": args.files[i], "duration_seconds": mono.shape[0] / tagger.rate, "chunks": chunks,
                      "scores": scores}

    for_each_file(args.files, threads, args.mode, tagger.front.decode, one)
    wall = time.perf_counter() - start
    if args.scores:
        with open(args.scores, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print(json.dumps({"files": len(results), "audio_seconds": sum(r["duration_seconds"] for r in results),
                      "wall_seconds": wall, "load_seconds": start - t0, "mode": args.mode, "threads": threads,
                      "batch": args.batch, "decoder": args.decoder, "torch": torch.__version__,
                      "torchaudio": torchaudio.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
