#!/usr/bin/env python3
"""torchaudio reference for `mtag bench extract`: the work of `mtag extract` for a log-mel config.

Per file: decode with soundfile (libsndfile, mtag's decoder) or torchaudio.load, mix to mono, resample
with torchaudio.transforms.Resample (kernel built once per input rate), MelSpectrogram + AmplitudeToDB
with the config of --config (a FeatureConfig JSON as `mtag extract --print-config` shows it, kind
logmel), and np.save of the float32 [n_mels, frames] matrix to OUT/<file name>.npy.

Two ways to use T threads, both measured by `mtag bench extract`, which keeps the faster:
  --mode intraop  files one after the other, torch.set_num_threads(T), the next file decoded on a
                  background thread meanwhile
  --mode files    T Python threads each doing whole files, torch.set_num_threads(1)

Prints one JSON line: files, audio_seconds, wall_seconds (after imports), mode. Exit 3 without torch,
torchaudio or soundfile.
Run by hand: /usr/bin/python3 scripts/bench_extract_torchaudio.py --config cfg.json --out DIR --threads 2 FILE...
"""
import argparse
import json
import os
import sys
import time

try:
    import numpy as np
    import soundfile  # noqa: F401  (checked here: exit 3 without it)
    import torch  # noqa: F401  (checked here: exit 3 without it)
    import torchaudio  # noqa: F401  (checked here: exit 3 without it)
except ImportError as error:
    print(f"bench_extract_torchaudio.py: {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_front_end import LogMel, for_each_file  # noqa: E402


class Extractor(LogMel):
    def save(self, mono, out):
        # C order, as mtag writes (and as a reader expects of [n_mels, frames]); torch's result is a transposed view.
        np.save(out, np.ascontiguousarray(self.features(mono).numpy()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mode", choices=["intraop", "files"], default="intraop")
    ap.add_argument("--decoder", choices=["soundfile", "torchaudio"], default="soundfile")
    args = ap.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    config = config.get("config", config)
    threads = max(1, args.threads)
    extractor = Extractor(config, args.decoder)
    os.makedirs(args.out, exist_ok=True)
    outs = [os.path.join(args.out, os.path.basename(p) + ".npy") for p in args.files]
    seconds = [0.0] * len(args.files)
    start = time.perf_counter()

    def finish(i, mono):
        seconds[i] = mono.shape[0] / extractor.rate
        extractor.save(mono, outs[i])

    for_each_file(args.files, threads, args.mode, extractor.decode, finish)
    print(json.dumps({"files": len(args.files), "audio_seconds": sum(seconds), "wall_seconds": time.perf_counter() - start,
                      "mode": args.mode, "threads": threads, "decoder": args.decoder}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
