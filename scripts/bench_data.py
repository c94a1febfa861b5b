#!/usr/bin/env python3
"""Reference for `mtag bench data`: a PyTorch DataLoader that does what mtag's batch loader does without
augmentation -- decode a random 3 s window (torchaudio.info + torchaudio.load with frame_offset, as mtag
reads only the window when the manifest gives durations), resample to 16 kHz, crop, 96-band Slaney
log-mel (n_fft 512, hop 256, power 2, power_to_db with top_db 80) -- over the clips of a CSV manifest.
Prints one JSON object: {"workers": W, "clips": N, "clips_per_second": x}. Rerun: python3
scripts/bench_data.py --manifest DIR/manifest.csv --workers 2."""
import argparse
import csv
import json
import os
import random
import time

import torch
import torchaudio


class Clips(torch.utils.data.Dataset):
    def __init__(self, manifest, frames, sample_rate=16000, hop=256):
        base = os.path.dirname(os.path.abspath(manifest))
        with open(manifest, newline="") as f:
            self.paths = [r["path"] if os.path.isabs(r["path"]) else os.path.join(base, r["path"])
                          for r in csv.DictReader(f)]
        self.sample_rate = sample_rate
        self.window = (frames - 1) * hop
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=512, hop_length=hop, n_mels=96, power=2.0,
            norm="slaney", mel_scale="slaney", center=True, pad_mode="constant")
        self.db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        # Like mtag with known durations: decode only the crop's window (plus resampling margin).
        info = torchaudio.info(self.paths[i])
        sr = info.sample_rate
        need = int(self.window * sr / self.sample_rate) + 64
        offset = random.randint(0, max(0, info.num_frames - need))
        audio, sr = torchaudio.load(self.paths[i], frame_offset=offset, num_frames=need)
        audio = audio.mean(dim=0)
        if sr != self.sample_rate:
            audio = torchaudio.functional.resample(audio, sr, self.sample_rate)
        if audio.numel() > self.window:
            start = random.randint(0, audio.numel() - self.window)
            audio = audio[start:start + self.window]
        else:
            audio = torch.nn.functional.pad(audio, (0, self.window - audio.numel()))
        with torch.no_grad():
            return self.db(self.mel(audio))


def worker_init(_):
    torch.set_num_threads(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frames", type=int, default=188)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = Clips(args.manifest, args.frames)
    loader = torch.utils.data.DataLoader(clips, batch_size=16, shuffle=True, num_workers=args.workers,
                                         worker_init_fn=worker_init, persistent_workers=True)
    for _ in loader:  # warm-up epoch: worker start-up and first-touch costs are not counted
        pass
    start = time.perf_counter()
    count = 0
    for _ in range(args.epochs):
        for batch in loader:
            count += batch.shape[0]
    elapsed = time.perf_counter() - start
    # CPU cost per clip, robust on a busy machine: the same work in this process (num_workers=0), one thread.
    single = torch.utils.data.DataLoader(clips, batch_size=16, shuffle=True, num_workers=0)
    for i in range(min(16, len(clips))):  # warm-up: backends, kernels and caches are built on first use
        clips[i]
    cpu_start = time.process_time()
    cpu_count = 0
    for batch in single:
        cpu_count += batch.shape[0]
    cpu = time.process_time() - cpu_start
    print(json.dumps({"workers": args.workers, "clips": count, "clips_per_second": count / elapsed,
                      "cpu_seconds_per_clip": cpu / cpu_count}))


if __name__ == "__main__":
    main()
