#!/usr/bin/env python3
"""Reference levels of torchaudio's plain phase vocoder (librosa's algorithm) on a 440 Hz sine.

Prints, for each rate, the steady-state level change in dB of STFT -> torchaudio.functional.phase_vocoder
-> iSTFT (22.05 kHz, n_fft 2048, hop 512, periodic Hann, centred frames with zero padding). The values are
pasted into tests/dsp/test_phase_vocoder.cpp, which checks mtag's PhaseLocking::none against them.
Run: /usr/bin/python3 scripts/reference_time_stretch_levels.py  (needs torch + torchaudio)
"""
import json
import math

import torch
import torchaudio

sr, n_fft, hop = 22050, 2048, 512
t = torch.arange(3 * sr, dtype=torch.float64) / sr
x = (0.5 * torch.sin(2 * math.pi * 440 * t)).float()
window = torch.hann_window(n_fft)
spec = torch.stft(x, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True)
advance = torch.linspace(0, math.pi * hop, n_fft // 2 + 1)[..., None]
levels = {}
for rate in [0.5, 0.8, 1.25, 2.0]:
    stretched = torchaudio.functional.phase_vocoder(spec, rate, advance)
    y = torch.istft(stretched, n_fft, hop, window=window, center=True, length=round(len(x) / rate))
    middle = len(y) // 2
    out = y[middle - sr // 4: middle + sr // 4]
    ref = x[sr: 2 * sr]
    levels[str(rate)] = round(10 * math.log10(float((out ** 2).mean() / (ref ** 2).mean())), 4)
print(json.dumps({"torchaudio": torchaudio.__version__, "level_change_db": levels}))
