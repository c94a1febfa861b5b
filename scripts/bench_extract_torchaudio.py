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
import concurrent.futures
import json
import os
import sys
import threading
import time
import warnings

try:
    import numpy as np
    import soundfile
    import torch
    import torchaudio
except ImportError as error:
    print(f"bench_extract_torchaudio.py: {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)

warnings.filterwarnings("ignore", message="At least one mel filterbank")


class Extractor:
    def __init__(self, f, decoder):
        if f.get("kind", "logmel") != "logmel" or f.get("log", "db") != "db":
            raise SystemExit("bench_extract_torchaudio.py: only log-mel (dB) configs are implemented")
        self.rate, self.decoder = int(f["sample_rate"]), decoder
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=self.rate, n_fft=int(f["n_fft"]), win_length=int(f.get("win_length") or f["n_fft"]),
            hop_length=int(f["hop_length"]), f_min=float(f.get("fmin", 0.0)),
            f_max=float(f["fmax"]) if f.get("fmax") else None, n_mels=int(f["n_mels"]), power=float(f.get("power", 2.0)),
            center=bool(f.get("center", True)), pad_mode=f.get("pad_mode", "reflect"),
            norm="slaney" if f.get("mel_norm") == "slaney" else None, mel_scale="htk" if f.get("htk") else "slaney")
        top_db = f.get("top_db")
        self.to_db = torchaudio.transforms.AmplitudeToDB("power", top_db=None if top_db in (None, -1, -1.0) else top_db)
        self.resamplers = {}
        self.lock = threading.Lock()

    def decode(self, path):
        if self.decoder == "torchaudio":
            wave, sr = torchaudio.load(path)
            mono = wave.mean(dim=0)
        else:
            data, sr = soundfile.read(path, dtype="float32", always_2d=True)
            mono = torch.from_numpy(data.mean(axis=1))
        if sr != self.rate:
            with self.lock:
                if sr not in self.resamplers:
                    self.resamplers[sr] = torchaudio.transforms.Resample(sr, self.rate)
            mono = self.resamplers[sr](mono)
        return mono

    def save(self, mono, out):
        # C order, as mtag writes (and as a reader expects of [n_mels, frames]); torch's result is a transposed view.
        np.save(out, np.ascontiguousarray(self.to_db(self.mel(mono)).numpy()))


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
    torch.set_num_threads(threads if args.mode == "intraop" else 1)
    extractor = Extractor(config, args.decoder)
    os.makedirs(args.out, exist_ok=True)
    outs = [os.path.join(args.out, os.path.basename(p) + ".npy") for p in args.files]
    seconds = [0.0] * len(args.files)
    start = time.perf_counter()

    def finish(i, mono):
        seconds[i] = mono.shape[0] / extractor.rate
        extractor.save(mono, outs[i])

    with torch.inference_mode():
        if args.mode == "intraop":
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as decoder:
                pending = decoder.submit(extractor.decode, args.files[0])
                for i in range(len(args.files)):
                    mono = pending.result()
                    if i + 1 < len(args.files):
                        pending = decoder.submit(extractor.decode, args.files[i + 1])
                    finish(i, mono)
        else:
            def work(i):
                with torch.inference_mode():
                    finish(i, extractor.decode(args.files[i]))
            with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(work, range(len(args.files))))
    print(json.dumps({"files": len(args.files), "audio_seconds": sum(seconds), "wall_seconds": time.perf_counter() - start,
                      "mode": args.mode, "threads": threads, "decoder": args.decoder}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
