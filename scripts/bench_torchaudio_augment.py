#!/usr/bin/env python3
"""torchaudio reference timings for `mtag bench augment` (run by it in the same session).

Prints one JSON line per measurement: phase-vocoder time stretch (torch.stft ->
torchaudio.functional.phase_vocoder -> torch.istft) and torchaudio.functional.pitch_shift, on the same kind of
30 s signal, single thread (torch.set_num_threads(1)), at the n_fft and hop given, timed with CPU time.

Usage: bench_torchaudio_augment.py --sample-rate 16000 --seconds 30 --n-fft 1500 --hop 375 \
           --rates 0.8 1.25 --semitones 2 --repeats 3
(Written here because scripts/bench_torchaudio.py of the extract area had no augment functions yet.)
"""
import argparse
import json
import math
import time

import torch
import torchaudio


def test_signal(sample_rate, seconds, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sample_rate), dtype=torch.float64) / sample_rate
    x = 0.3 * torch.sin(2 * math.pi * 220 * t) + 0.2 * torch.sin(2 * math.pi * 554.37 * t)
    x = x + 0.05 * torch.randn(len(t), generator=g, dtype=torch.float64)
    return x.float()


def cpu_time(fn, repeats, warm_up=True):
    if warm_up:
        fn()  # plans, allocator
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-rate", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--n-fft", type=int, required=True)
    parser.add_argument("--hop", type=int, required=True)
    parser.add_argument("--rates", type=float, nargs="*", default=[0.8, 1.25])
    parser.add_argument("--semitones", type=float, nargs="*", default=[2.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = test_signal(args.sample_rate, args.seconds)
    window = torch.hann_window(args.n_fft)
    advance = torch.linspace(0, math.pi * args.hop, args.n_fft // 2 + 1)[..., None]
    common = {"sample_rate": args.sample_rate, "seconds": args.seconds, "n_fft": args.n_fft, "hop": args.hop,
              "torch": torch.__version__, "torchaudio": torchaudio.__version__, "threads": 1}

    for rate in args.rates:
        def stretch():
            spec = torch.stft(x, args.n_fft, args.hop, window=window, center=True, return_complex=True)
            out = torchaudio.functional.phase_vocoder(spec, rate, advance)
            return torch.istft(out, args.n_fft, args.hop, window=window, center=True, length=round(len(x) / rate))
        cpu = cpu_time(stretch, args.repeats)
        print(json.dumps({"what": "time_stretch", "rate": rate, "cpu_seconds": cpu, **common}), flush=True)

    for semitones in args.semitones:
        def shift():
            return torchaudio.functional.pitch_shift(x, args.sample_rate, semitones, n_fft=args.n_fft,
                                                     hop_length=args.hop, window=window)
        cpu = cpu_time(shift, 1, warm_up=False)  # seconds per call: one run is enough
        print(json.dumps({"what": "pitch_shift", "semitones": semitones, "cpu_seconds": cpu, **common}), flush=True)


if __name__ == "__main__":
    main()
