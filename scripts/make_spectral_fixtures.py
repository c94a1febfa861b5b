#!/usr/bin/python3
"""Reference fixtures for mtag's spectral front end (issue 3) from torchaudio, written to tests/fixtures/dsp/.

    /usr/bin/python3 scripts/make_spectral_fixtures.py [--out tests/fixtures/dsp]

Needs Debian python3-torch (1.13) and python3-torchaudio (0.13). The input is a fixed, generated signal
(two sines, a chirp and seeded noise), stored in the JSON so the C++ test does not regenerate it.
librosa is not packaged for Debian; its own numbers come from ../shared/fixtures/librosa. torchaudio is a
second, independent check of what those fixtures cannot see: centred frames with reflect and constant
padding, win_length < n_fft, the power and magnitude mel spectrogram, Slaney and HTK scales, the dB
conversion with top_db over the whole spectrogram, and MFCC (orthonormal DCT-II of power_to_db).

File torchaudio_spectral.json: {"signal": [...], "cases": [{name, sample_rate, n_fft, hop_length,
win_length, pad_mode, n_mels, f_min, f_max, mel_scale, norm, power, n_mfcc,
power_spectrogram [bins][frames] (first case only, else null), mel [n_mels][frames], mel_db [n_mels][frames], mfcc [n_mfcc][frames]}]}.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torchaudio


def f32(v):
    return float("%.9g" % v)  # 9 significant digits round-trip a float32 exactly


def rows(t):
    return [[f32(v) for v in row] for row in t.to(torch.float32).numpy()]


def signal(sr, n):
    rng = np.random.default_rng(2024)
    t = np.arange(n) / sr
    x = 0.5 * np.sin(2 * math.pi * 440.0 * t) + 0.25 * np.sin(2 * math.pi * 1234.5 * t + 0.3)
    x += 0.2 * np.sin(2 * math.pi * (100.0 * t + 0.5 * 3000.0 * t * t))  # chirp 100 Hz -> ~3.1 kHz
    x += 0.05 * rng.standard_normal(n)
    return x.astype(np.float32)


CASES = [
    # torchaudio's defaults: HTK scale, no norm, reflect padding, power 2.
    dict(name="htk_reflect", sample_rate=16000, n_fft=256, hop_length=64, win_length=256, pad_mode="reflect",
         n_mels=40, f_min=0.0, f_max=8000.0, mel_scale="htk", norm=None, power=2.0, n_mfcc=13),
    # librosa's defaults: Slaney scale and norm, zero padding; a short window and band limits.
    dict(name="slaney_constant_short_window", sample_rate=16000, n_fft=256, hop_length=50, win_length=200,
         pad_mode="constant", n_mels=32, f_min=50.0, f_max=7000.0, mel_scale="slaney", norm="slaney",
         power=2.0, n_mfcc=20),
    # Magnitude mel spectrogram (power 1) with the Slaney scale.
    dict(name="magnitude_slaney", sample_rate=16000, n_fft=512, hop_length=128, win_length=512, pad_mode="reflect",
         n_mels=48, f_min=0.0, f_max=8000.0, mel_scale="slaney", norm="slaney", power=1.0, n_mfcc=13),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "dsp"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    x = signal(16000, 2000)
    xt = torch.from_numpy(x)
    cases = []
    for c in CASES:
        kw = dict(n_fft=c["n_fft"], hop_length=c["hop_length"], win_length=c["win_length"], center=True,
                  pad_mode=c["pad_mode"])
        spec = torchaudio.transforms.Spectrogram(power=2.0, **kw)(xt)
        mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=c["sample_rate"], n_mels=c["n_mels"], f_min=c["f_min"], f_max=c["f_max"],
            mel_scale=c["mel_scale"], norm=c["norm"], power=c["power"], **kw)(xt)
        stype = "power" if c["power"] == 2.0 else "magnitude"
        mel_db = torchaudio.transforms.AmplitudeToDB(stype=stype, top_db=80.0)(mel)
        mfcc = None
        if c["power"] == 2.0:
            mfcc = torchaudio.transforms.MFCC(
                sample_rate=c["sample_rate"], n_mfcc=c["n_mfcc"], dct_type=2, norm="ortho", log_mels=False,
                melkwargs=dict(n_mels=c["n_mels"], f_min=c["f_min"], f_max=c["f_max"], mel_scale=c["mel_scale"],
                               norm=c["norm"], power=2.0, **kw))(xt)
        case = dict(c)
        case.update(power_spectrogram=rows(spec) if c is CASES[0] else None, mel=rows(mel), mel_db=rows(mel_db),
                    mfcc=rows(mfcc) if mfcc is not None else None)
        cases.append(case)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "torchaudio_spectral.json")
    with open(path, "w") as f:
        json.dump({"generator": "scripts/make_spectral_fixtures.py", "torch": torch.__version__,
                   "torchaudio": torchaudio.__version__, "signal": [f32(v) for v in x], "cases": cases}, f)
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)")


if __name__ == "__main__":
    main()
