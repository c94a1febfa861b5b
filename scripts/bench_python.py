#!/usr/bin/env python3
"""mtag from Python against torchaudio / PyTorch, in one run (issue 22's figures; `mtag bench python` runs it).

1. mel: mtag.feature.melspectrogram(y=y) against torchaudio.transforms.MelSpectrogram with the same
   parameters (librosa's defaults: 22.05 kHz, n_fft 2048, hop 512, 128 Slaney bands with area norm, power 2,
   centred with constant padding), both from a NumPy float32 signal to a NumPy float32 array (the torch
   side includes torch.from_numpy and .numpy()), one thread, --repeats calls each in three interleaved
   rounds; best and median. Target: >= 4x.
2. loader: mtag.data.Loader against a torch.utils.data.DataLoader doing decode (torchaudio.load of the
   crop's window) + resample to 16 kHz + crop + the same augmentations + 96-band log-mel, at equal worker
   counts, batch 16, 3 s crops, one thread per worker. Augmentations on both sides, each with p = 0.5: gain
   +-6 dB, white noise at 10-40 dB SNR, pitch shift +-2 semitones (torchaudio.functional.pitch_shift takes
   whole steps, so the torch side draws integers), time stretch 0.8-1.25 keeping the length (phase vocoder);
   both vocoders use n_fft 512, hop 128 (torchaudio's pitch_shift defaults).
   mtag decodes every clip every epoch too (cache=None: equal work); the waveform cache's figure
   (cache="memory", mtag's default) is reported beside it. One warm-up epoch each, then --epochs epochs
   timed one by one: the best and the median epoch's clips/s (an epoch of 64 clips lasts well under a
   second, so a single total is at the mercy of one hiccup). Target: >= 3x clips/s.

   The torch side is written as a performance-minded PyTorch user would, not naively:
   - every transform and kernel is built once per dataset (copied into the workers), never per item:
     MelSpectrogram, AmplitudeToDB, the Hann windows and phase advances, and one
     torchaudio.transforms.Resample per decode rate (the file's rate -> 16 kHz) and per semitone step;
   - pitch shift is torchaudio.functional.pitch_shift's algorithm (phase-vocoder stretch by 2^(n/12),
     then resampling back, then cut/pad to the input length) with one change: pitch_shift resamples from
     int(sr / rate) to sr, a ratio with a tiny gcd (16951 -> 16000 for +1 step, gcd 1) whose sinc kernel
     is thousands of taps wide and rebuilt on every call (0.5 clips/s in this benchmark). Here the
     intermediate rate is rounded to a multiple of 100 Hz (17000 -> 16000, gcd 1000), an error of at
     most 6 cents (inaudible for augmentation), and its Resample is cached;
   - torch.set_num_threads(1) in every worker (and in the main process), so 2 workers use 2 cores.
   scripts/bench_torch_loader_minimal.py does the same work in ~40 independent lines; this script runs it
   on the same corpus and prints its figure beside, and the two must agree (within run-to-run noise).

    scripts/build.sh
    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_python.py            # full run
    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_python.py --quick    # a smoke run (tiny settings)
    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_python.py --part mtag-loader --data CORPUS
        # only mtag.data.Loader's figures (no mel, no torch side): to compare two builds of mtag

Prints a table, then one JSON line with every figure. Timing figures need a quiet machine.
"""
import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import torch
    import torchaudio
except ImportError as error:
    print(f"bench_python.py: {sys.executable}: {error} (Debian: python3-torch python3-torchaudio)", file=sys.stderr)
    sys.exit(3)
import mtag

SAMPLE_RATE = 16000
HOP = 256
N_MELS = 96
AUGMENTATION = {"transforms": [
    {"type": "gain", "p": 0.5, "gain_db": [-6, 6]},
    {"type": "coloured_noise", "p": 0.5, "snr_db": [10, 40], "beta": [0, 0]},
    {"type": "pitch_shift", "p": 0.5, "semitones": [-2, 2], "n_fft": 512},
    {"type": "time_stretch", "p": 0.5, "rate": [0.8, 1.25], "keep_length": True, "n_fft": 512},
]}


def timings(function, repeats):
    """Seconds of each of `repeats` calls after one warm-up call, sorted (best first)."""
    function()  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return sorted(seconds)


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else 0.5 * (values[middle - 1] + values[middle])


def keep_large_blocks_in_heap():
    """glibc serves blocks above its mmap threshold (128 KiB at first, raised as mmapped blocks are freed) with
    fresh mmaps, so each call of torchaudio's transform page-faults its ~10 MB STFT buffers in again, and its time
    jumps between ~8 and ~20 ms depending on how far glibc's threshold has moved. Raising the threshold and the trim
    threshold once (what MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ do) keeps torchaudio at its best (~8 ms
    here) from the first call; jemalloc measured slower (~25 ms). Both sides run under the same setting."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's largest allowed value on 64-bit
    libc.mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)


def bench_mel(seconds, repeats):
    sr = 22050
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 97 * t) + 0.05 * rng.standard_normal(t.size))
    y = y.astype(np.float32)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=2048, hop_length=512, n_mels=128, power=2.0,
                                               center=True, pad_mode="constant", norm="slaney", mel_scale="slaney")

    def run_torch():
        with torch.inference_mode():
            return mel(torch.from_numpy(y)).numpy()

    def run_mtag():
        return mtag.feature.melspectrogram(y=y, sr=sr)

    assert run_torch().shape == run_mtag().shape
    # Interleaved rounds (torch, then mtag) so a burst of load elsewhere hits both sides alike.
    torch_s, mtag_s = [], []
    for _ in range(3):
        torch_s += timings(run_torch, max(1, repeats // 3))
        mtag_s += timings(run_mtag, max(1, repeats // 3))
    return {"audio_seconds": seconds, "calls": len(mtag_s),
            "mtag_seconds": min(mtag_s), "torchaudio_seconds": min(torch_s), "speedup": min(torch_s) / min(mtag_s),
            "mtag_median_seconds": median(mtag_s), "torchaudio_median_seconds": median(torch_s),
            "median_speedup": median(torch_s) / median(mtag_s)}


def read_manifest(manifest):
    base = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="") as f:
        return [r["path"] if os.path.isabs(r["path"]) else os.path.join(base, r["path"]) for r in csv.DictReader(f)]


PITCH_STEPS = (-2, -1, 1, 2)


class TorchPitchShift:
    """torchaudio.functional.pitch_shift(x, sample_rate, n_steps) with n_fft 512 (its default), its
    resampling kernel built once per step, and the intermediate rate rounded to 100 Hz (see the docstring)."""

    def __init__(self, sample_rate, steps, n_fft=512):
        self.n_fft, self.hop = n_fft, n_fft // 4
        self.window = torch.hann_window(n_fft)
        self.advance = torch.linspace(0, math.pi * self.hop, n_fft // 2 + 1)[..., None]
        self.steps = {}
        for n in steps:
            rate = 2.0 ** (-n / 12)
            intermediate = round(sample_rate / rate / 100) * 100  # pitch_shift: int(sample_rate / rate)
            self.steps[n] = (rate, torchaudio.transforms.Resample(intermediate, sample_rate))

    def __call__(self, x, n_steps):
        rate, resample = self.steps[n_steps]
        spec = torch.stft(x, self.n_fft, self.hop, window=self.window, center=True, pad_mode="reflect",
                          return_complex=True)
        stretched = torchaudio.functional.phase_vocoder(spec, rate, self.advance)
        y = torch.istft(stretched, self.n_fft, self.hop, window=self.window, length=int(round(x.numel() / rate)))
        y = resample(y)
        return y[: x.numel()] if y.numel() >= x.numel() else torch.nn.functional.pad(y, (0, x.numel() - y.numel()))


class TorchClips(torch.utils.data.Dataset):
    """decode the window -> resample -> crop -> augment (p = 0.5 each) -> log-mel, as mtag's loader."""

    def __init__(self, paths, frames):
        self.paths = paths
        self.window = (frames - 1) * HOP
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=512, hop_length=HOP, n_mels=N_MELS, power=2.0, norm="slaney",
            mel_scale="slaney", center=True, pad_mode="constant")
        self.db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)
        self.stretch_window = torch.hann_window(512)
        self.advance = torch.linspace(0, torch.pi * 128, 257)[..., None]
        self.pitch_shift = TorchPitchShift(SAMPLE_RATE, PITCH_STEPS)
        # One Resample (kernel built once) per decode rate; the corpus's rates are known up front.
        rates = {torchaudio.info(p).sample_rate for p in paths}
        self.resamplers = {sr: torchaudio.transforms.Resample(sr, SAMPLE_RATE) for sr in rates if sr != SAMPLE_RATE}

    def __len__(self):
        return len(self.paths)

    def augment(self, x):
        if random.random() < 0.5:
            x = x * 10 ** (random.uniform(-6, 6) / 20)
        if random.random() < 0.5:
            snr = random.uniform(10, 40)
            noise = torch.randn_like(x)
            x = x + noise * (x.pow(2).mean().sqrt() / noise.pow(2).mean().sqrt() * 10 ** (-snr / 20))
        if random.random() < 0.5:
            x = self.pitch_shift(x, random.choice(PITCH_STEPS))
        if random.random() < 0.5:
            rate = float(np.exp(random.uniform(np.log(0.8), np.log(1.25))))
            spec = torch.stft(x, 512, 128, window=self.stretch_window, center=True, pad_mode="constant",
                              return_complex=True)
            stretched = torchaudio.functional.phase_vocoder(spec, rate, self.advance)
            y = torch.istft(stretched, 512, 128, window=self.stretch_window, center=True,
                            length=round(x.numel() / rate))
            x = torch.nn.functional.pad(y, (0, max(0, x.numel() - y.numel())))[: x.numel()]
        return x

    def __getitem__(self, i):
        info = torchaudio.info(self.paths[i])
        sr = info.sample_rate
        need = int(self.window * sr / SAMPLE_RATE) + 64
        offset = random.randint(0, max(0, info.num_frames - need))
        audio, sr = torchaudio.load(self.paths[i], frame_offset=offset, num_frames=need)
        with torch.no_grad():
            audio = audio.mean(dim=0)
            if sr != SAMPLE_RATE:
                resample = self.resamplers.get(sr) or self.resamplers.setdefault(
                    sr, torchaudio.transforms.Resample(sr, SAMPLE_RATE))
                audio = resample(audio)
            audio = audio[: self.window] if audio.numel() >= self.window else \
                torch.nn.functional.pad(audio, (0, self.window - audio.numel()))
            return self.db(self.mel(self.augment(audio)))


def worker_init(worker_id):
    torch.set_num_threads(1)
    random.seed(1000 + worker_id)


def clips_per_second(iterate, epochs):
    """clips/s of each of `epochs` epochs after one warm-up epoch: (best, median)."""
    iterate()  # warm-up epoch
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        clips = iterate()
        rates.append(clips / (time.perf_counter() - start))
    return max(rates), median(rates)


def bench_loader(manifest, workers, epochs, torch_side=True):
    crop_seconds = 3.0
    frames = round(crop_seconds * SAMPLE_RATE / HOP)
    features = {"kind": "logmel", "sample_rate": SAMPLE_RATE, "n_fft": 512, "hop_length": HOP, "n_mels": N_MELS}
    figures = {"workers": workers, "clips": len(read_manifest(manifest))}

    def mtag_rate(cache):
        loader = mtag.data.Loader(data=manifest, features=features, augmentation=AUGMENTATION, batch_size=16,
                                  crop_seconds=crop_seconds, seed=0, workers=workers, split="all", cache=cache)
        return clips_per_second(lambda: sum(x.shape[0] for x, _, _ in loader), epochs)

    figures["epochs"] = epochs
    figures["mtag_clips_per_second"], figures["mtag_median_clips_per_second"] = mtag_rate(None)
    figures["mtag_memory_cache_clips_per_second"], figures["mtag_memory_cache_median_clips_per_second"] = \
        mtag_rate("memory")
    if not torch_side:
        return figures
    dataset = TorchClips(read_manifest(manifest), frames)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True, num_workers=workers,
                                         worker_init_fn=worker_init, persistent_workers=True)
    figures["torch_clips_per_second"], figures["torch_median_clips_per_second"] = clips_per_second(
        lambda: sum(b.shape[0] for b in loader), epochs)
    figures["speedup"] = figures["mtag_clips_per_second"] / figures["torch_clips_per_second"]
    figures["median_speedup"] = figures["mtag_median_clips_per_second"] / figures["torch_median_clips_per_second"]
    del loader  # its worker processes end before the independent check starts
    # The independent minimal script (same work, written separately) must agree with the figure above.
    minimal = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench_torch_loader_minimal.py"),
                              manifest, "--workers", str(workers), "--epochs", str(epochs)],
                             check=True, capture_output=True, text=True)
    minimal_figures = json.loads(minimal.stdout.strip().splitlines()[-1])
    figures["torch_minimal_script_clips_per_second"] = minimal_figures["clips_per_second"]
    figures["torch_minimal_script_median_clips_per_second"] = minimal_figures["median_clips_per_second"]
    return figures


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="manifest.csv (or its folder) to load; default: a new `mtag synth` corpus")
    p.add_argument("--mtag", default=os.path.join(ROOT, "build", "mtag"), help="mtag executable (for synth)")
    p.add_argument("--clips", type=int, default=64, help="clips of the generated corpus")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds per generated clip")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=8, help="measured epochs (after one warm-up epoch); best and median")
    p.add_argument("--mel-seconds", type=float, default=30.0)
    p.add_argument("--repeats", type=int, default=30, help="timed mel calls per side (best and median)")
    p.add_argument("--quick", action="store_true", help="tiny settings: checks that everything runs")
    p.add_argument("--part", choices=("all", "mel", "loader", "mtag-loader"), default="all",
                   help="what to measure: everything (default), only the mel comparison, only the loader "
                        "comparison, or only mtag.data.Loader's own figures (no torch side, no ratio: for "
                        "comparing two builds of mtag)")
    args = p.parse_args()
    if args.quick:
        args.clips, args.seconds, args.epochs, args.mel_seconds, args.repeats = 8, 4.0, 1, 2.0, 3
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory(prefix="mtag_bench_python_") as work:
        manifest = args.data
        if manifest is None:
            manifest = os.path.join(work, "corpus")
            subprocess.run([args.mtag, "--quiet", "synth", "--out", manifest, "--clips", str(args.clips), "--seconds",
                            str(args.seconds), "--sample-rate", "22050", "--seed", "1"], check=True)
        if os.path.isdir(manifest):
            manifest = os.path.join(manifest, "manifest.csv")
        keep_large_blocks_in_heap()
        mel = bench_mel(args.mel_seconds, args.repeats) if args.part in ("all", "mel") else None
        loader = None
        if args.part in ("all", "loader", "mtag-loader"):
            loader = bench_loader(manifest, args.workers, args.epochs, torch_side=args.part != "mtag-loader")

    if mel:
        print(f"mel spectrogram, {mel['audio_seconds']:.0f} s at 22.05 kHz, one thread, NumPy in and out, "
              f"{mel['calls']} calls each:                best      median")
        print(f"  mtag.feature.melspectrogram          {mel['mtag_seconds'] * 1e3:9.2f} ms "
              f"{mel['mtag_median_seconds'] * 1e3:9.2f} ms")
        print(f"  torchaudio.transforms.MelSpectrogram {mel['torchaudio_seconds'] * 1e3:9.2f} ms "
              f"{mel['torchaudio_median_seconds'] * 1e3:9.2f} ms")
        print(f"  speedup {mel['speedup']:.2f}x best, {mel['median_speedup']:.2f}x median (target >= 4x)")
    if loader:
        print(f"loader, {loader['clips']} clips, {loader['workers']} workers, decode + resample + augment + log-mel, "
              f"{loader['epochs']} epochs:  best epoch   median epoch")
        print(f"  mtag.data.Loader (cache=None)        {loader['mtag_clips_per_second']:9.1f} clips/s "
              f"{loader['mtag_median_clips_per_second']:9.1f} clips/s")
        print(f"  mtag.data.Loader (cache='memory')    {loader['mtag_memory_cache_clips_per_second']:9.1f} clips/s "
              f"{loader['mtag_memory_cache_median_clips_per_second']:9.1f} clips/s")
        if "torch_clips_per_second" in loader:
            print(f"  torch DataLoader (torchaudio)        {loader['torch_clips_per_second']:9.1f} clips/s "
                  f"{loader['torch_median_clips_per_second']:9.1f} clips/s")
            print(f"  the same, bench_torch_loader_minimal {loader['torch_minimal_script_clips_per_second']:9.1f} "
                  f"clips/s {loader['torch_minimal_script_median_clips_per_second']:9.1f} clips/s "
                  "(independent script: must agree)")
            print(f"  speedup {loader['speedup']:.2f}x best, {loader['median_speedup']:.2f}x median, at equal work "
                  "(target >= 3x)")
    print(json.dumps({"mel": mel or {}, "loader": loader or {}}))


if __name__ == "__main__":
    main()
