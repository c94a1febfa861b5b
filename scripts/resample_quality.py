#!/usr/bin/env python3
"""Resampling quality of libsamplerate's converters against torchaudio's default resampler.

Why: mtag's pitch shift resamples the phase vocoder's output with libsamplerate, and the converter
decides most of its cost. This script measures whether SRC_SINC_FASTEST is good enough by comparing it
with the kernel torchaudio.functional.pitch_shift uses (torchaudio.functional.resample's default:
sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99), at the rate pairs that matter:
  - pitch shift +2 / -2 / +4 semitones at 16 kHz and 22.05 kHz (int(sr / rate) -> sr, torchaudio's pair)
  - decoding 22.05 kHz -> 16 kHz (what the data loader does)

For each converter and rate pair, pure tones (amplitude 0.5, float32) are resampled and measured on the
middle of the output by a least-squares sine fit:
  passband gain (dB) at fractions of the lower Nyquist frequency, and the -0.1 dB / -3 dB edges;
  in-band error: residual after removing the fitted sine, relative to the tone (dB), worst over
         tones up to 0.8 Nyquist (what the converter adds: kernel error, images, aliases);
  stopband: tones above the output's Nyquist (downsampling only), the worst output level relative to
         the input tone (dB): the alias a mel front end would see.
libsamplerate is called through ctypes (src_simple), so only the system library is needed.
Prints one JSON object on stdout. Run with /usr/bin/python3 (needs numpy, torch, torchaudio).
"""
import ctypes
import ctypes.util
import json
import math
import sys

import numpy as np
import torch
import torchaudio

_lib = ctypes.CDLL(ctypes.util.find_library("samplerate") or "libsamplerate.so.0")


class SrcData(ctypes.Structure):
    _fields_ = [("data_in", ctypes.POINTER(ctypes.c_float)), ("data_out", ctypes.POINTER(ctypes.c_float)),
                ("input_frames", ctypes.c_long), ("output_frames", ctypes.c_long),
                ("input_frames_used", ctypes.c_long), ("output_frames_gen", ctypes.c_long),
                ("end_of_input", ctypes.c_int), ("src_ratio", ctypes.c_double)]


CONVERTERS = {"src_best": 0, "src_medium": 1, "src_fastest": 2}


def src_resample(x, ratio, converter):
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.zeros(int(len(x) * ratio) + 256, dtype=np.float32)
    data = SrcData(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                   len(x), len(out), 0, 0, 1, ratio)
    error = _lib.src_simple(ctypes.byref(data), CONVERTERS[converter], 1)
    if error:
        raise RuntimeError(f"libsamplerate error {error}")
    return out[:data.output_frames_gen]


def resample_many(signals, from_rate, to_rate, converter):
    """Resamples each row of `signals`. torchaudio's kernel is built once (transforms.Resample, the same
    kernel as functional.resample) and applied to all rows in one batch: at rates like 17959 -> 16000
    (gcd 1) it has new_freq x (orig_freq + 2 width) taps, over a GB, and rebuilding it per tone takes seconds."""
    if converter == "torchaudio":
        resampler = torchaudio.transforms.Resample(from_rate, to_rate)  # sinc_interp_hann, width 6, rolloff 0.99
        with torch.inference_mode():
            return resampler(torch.from_numpy(np.asarray(signals, dtype=np.float32))).numpy()
    return [src_resample(x, to_rate / from_rate, converter) for x in signals]


def fit_tone(y, freq, rate):
    """Amplitude of the sine at `freq` in the middle half of y, and the RMS of the rest (least squares)."""
    n = len(y)
    seg = y[n // 4: 3 * n // 4].astype(np.float64)
    t = (np.arange(n // 4, n // 4 + len(seg))) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t), np.ones_like(t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, seg, rcond=None)
    residual = seg - basis @ coef
    return math.hypot(coef[0], coef[1]), float(np.sqrt(np.mean(residual ** 2)))


def db(v):
    return 20 * math.log10(max(v, 1e-12))


def measure(from_rate, to_rate, converter, seconds=4.0, amplitude=0.5):
    t = np.arange(int(from_rate * seconds)) / from_rate
    nyquist = min(from_rate, to_rate) / 2
    fractions = [0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98]
    sweep = list(np.linspace(0.02, 0.995, 100))
    tones = [f * nyquist for f in fractions + sweep]
    aliases = list(np.linspace(1.05 * to_rate / 2, 0.98 * from_rate / 2, 40)) if to_rate < from_rate else []
    outputs = resample_many(np.stack([amplitude * np.sin(2 * np.pi * f * t) for f in tones + aliases]),
                            from_rate, to_rate, converter)
    passband = {}
    worst_error = -1e9
    gains = []
    for i, freq in enumerate(tones):
        a, r = fit_tone(outputs[i], freq, to_rate)
        f = freq / nyquist
        if i < len(fractions):
            passband[str(fractions[i])] = round(db(a / amplitude), 3)
            continue
        gains.append((f, db(a / amplitude)))
        if f <= 0.8:
            worst_error = max(worst_error, db(r / (amplitude / math.sqrt(2))))
    edge01 = next((f for f, g in gains if g < -0.1), 1.0)
    edge3 = next((f for f, g in gains if g < -3.0), 1.0)
    result = {"passband_gain_db": passband, "edge_0.1db": round(edge01, 3), "edge_3db": round(edge3, 3),
              "inband_error_db": round(worst_error, 1)}
    if aliases:
        # Tones between 1.05 x the output Nyquist and 0.98 x the input Nyquist: their whole output is alias.
        worst = -1e9
        worst_near = -1e9  # tones just above the output Nyquist (1.05 - 1.2 x): the hardest region
        for j, freq in enumerate(aliases):
            y = outputs[len(tones) + j]
            n = len(y)
            level = db(float(np.sqrt(np.mean(np.asarray(y[n // 4: 3 * n // 4], dtype=np.float64) ** 2)))
                       / (amplitude / math.sqrt(2)))
            worst = max(worst, level)
            if freq < 1.2 * to_rate / 2:
                worst_near = max(worst_near, level)
        result["stopband_alias_db"] = round(worst, 1)
        result["stopband_alias_near_db"] = round(worst_near, 1)
    return result


def main():
    torch.set_num_threads(1)
    # torchaudio.functional.pitch_shift resamples int(sr / rate) -> sr. Those rates are often coprime
    # (16 kHz, +2: 17959 -> 16000), and torchaudio's kernel then has sr x (int(sr / rate) + 2 width) taps
    # (about 1 GB). The kernel's response in normalised frequency depends only on the ratio, the rolloff
    # and the width, so each shift is measured at the same ratio with rates scaled down to ~2000 Hz
    # (e.g. 2245 -> 2000 for +2), where the kernel is small; figures are in fractions of Nyquist.
    pairs = []
    for steps in (2, -2, 4, -4):
        rate = 2.0 ** (-steps / 12)
        pairs.append({"what": f"pitch_shift {steps:+d} (ratio {rate:.4f})", "from": int(round(2000 / rate)), "to": 2000})
    pairs.append({"what": "decode 22050 -> 16000", "from": 22050, "to": 16000})
    out = []
    for pair in pairs:
        row = dict(pair)
        for converter in ("torchaudio", "src_fastest", "src_medium"):
            row[converter] = measure(pair["from"], pair["to"], converter)
            print(pair["what"], converter, json.dumps(row[converter]), file=sys.stderr)
        out.append(row)
    print(json.dumps({"kernels": {"torchaudio": "sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99",
                                  "src_fastest": "SRC_SINC_FASTEST", "src_medium": "SRC_SINC_MEDIUM_QUALITY"},
                      "results": out}, indent=1))


if __name__ == "__main__":
    main()
