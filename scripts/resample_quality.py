#!/usr/bin/env python3
"""Resampling quality and speed of mtag's two backends, libsoxr and libsamplerate, against torchaudio.

Why: decoding (44.1 kHz -> 16 kHz, 22.05 kHz -> 16 kHz) and pitch shift resample every clip, and the
converter decides most of their cost. This script measures every converter mtag offers on the same
signals, so that the defaults (dsp/resample.hpp: decoding; dsp/pitch_shift.hpp: pitch shift) are the
fastest at equal or better quality:
  - libsoxr's recipes soxr_vhq, soxr_hq, soxr_mq, soxr_lq, soxr_qq (librosa's res_type names; created as
    mtag and python-soxr create them: soxr_quality_spec(recipe, 0), float32, one thread);
  - libsamplerate's sinc_best, sinc_medium, sinc_fastest;
  - torchaudio.functional.resample's default kernel (sinc_interp_hann, lowpass_filter_width 6, rolloff
    0.99), what torchaudio.functional.pitch_shift uses, as the reference a PyTorch user has.
Rate pairs:
  - pitch shift +2 / -2 / +4 / -4 semitones (int(sr / rate) -> sr, torchaudio's pair; scaled to ~2 kHz for
    torchaudio's sake, see main());
  - decoding 44100 -> 16000, 22050 -> 16000, 44100 -> 22050, 48000 -> 16000.

For each converter and rate pair, pure tones (amplitude 0.5, float32) are resampled and measured on the
middle of the output by a least-squares sine fit:
  passband gain (dB) at fractions of the lower Nyquist frequency, and the -0.1 dB / -3 dB edges;
  in-band error: residual after removing the fitted sine, relative to the tone (dB), worst over
         tones up to 0.8 Nyquist (what the converter adds: kernel error, images, aliases);
  stopband: tones above the output's Nyquist (downsampling only), the worst output level relative to
         the input tone (dB): the alias a mel front end would see.
Speed: CPU seconds to convert 60 s of noise at real rates (decoding pairs, and pitch shift +-2 at 16 kHz),
best of 5, in audio seconds per CPU second; one thread (run it on a quiet machine).
libsoxr and libsamplerate are called through ctypes (soxr_oneshot, src_simple), so only the system
libraries are needed. Prints one JSON object on stdout and a table on stderr. Run with /usr/bin/python3
(needs numpy, torch, torchaudio); --no-torchaudio skips the reference, --quick measures fewer tones.
"""
import ctypes
import ctypes.util
import json
import math
import sys
import time

import numpy as np
import torch
import torchaudio

_lib = ctypes.CDLL(ctypes.util.find_library("samplerate") or "libsamplerate.so.0")
_soxr = ctypes.CDLL(ctypes.util.find_library("soxr") or "libsoxr.so.0")


class SoxrIoSpec(ctypes.Structure):
    _fields_ = [("itype", ctypes.c_int), ("otype", ctypes.c_int), ("scale", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


class SoxrQualitySpec(ctypes.Structure):
    _fields_ = [("precision", ctypes.c_double), ("phase_response", ctypes.c_double),
                ("passband_end", ctypes.c_double), ("stopband_begin", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


class SoxrRuntimeSpec(ctypes.Structure):
    _fields_ = [("log2_min_dft_size", ctypes.c_uint), ("log2_large_dft_size", ctypes.c_uint),
                ("coef_size_kbytes", ctypes.c_uint), ("num_threads", ctypes.c_uint),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


_soxr.soxr_quality_spec.restype = SoxrQualitySpec
_soxr.soxr_quality_spec.argtypes = [ctypes.c_ulong, ctypes.c_ulong]
_soxr.soxr_io_spec.restype = SoxrIoSpec
_soxr.soxr_io_spec.argtypes = [ctypes.c_int, ctypes.c_int]
_soxr.soxr_runtime_spec.restype = SoxrRuntimeSpec
_soxr.soxr_runtime_spec.argtypes = [ctypes.c_uint]
_soxr.soxr_oneshot.restype = ctypes.c_char_p
_soxr.soxr_oneshot.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_uint, ctypes.c_void_p, ctypes.c_size_t,
                               ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p, ctypes.c_size_t,
                               ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(SoxrIoSpec),
                               ctypes.POINTER(SoxrQualitySpec), ctypes.POINTER(SoxrRuntimeSpec)]
# soxr.h: SOXR_QQ 0, SOXR_LQ 1, SOXR_MQ 2, SOXR_HQ = SOXR_20_BITQ 4, SOXR_VHQ = SOXR_28_BITQ 6.
SOXR_RECIPES = {"soxr_vhq": 6, "soxr_hq": 4, "soxr_mq": 2, "soxr_lq": 1, "soxr_qq": 0}


def soxr_resample(x, from_rate, to_rate, name):
    """What dsp/resample_soxr.cpp does: float32, soxr_quality_spec(recipe, 0), one thread; the output
    trimmed or padded to round(n * to / from) like StreamingResampler::finish."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n_out = int(round(len(x) * to_rate / from_rate))
    out = np.zeros(n_out + 64, dtype=np.float32)
    idone, odone = ctypes.c_size_t(0), ctypes.c_size_t(0)
    io = _soxr.soxr_io_spec(0, 0)  # SOXR_FLOAT32_I
    quality = _soxr.soxr_quality_spec(SOXR_RECIPES[name], 0)
    runtime = _soxr.soxr_runtime_spec(1)
    error = _soxr.soxr_oneshot(float(from_rate), float(to_rate), 1, x.ctypes.data, len(x), ctypes.byref(idone),
                               out.ctypes.data, len(out), ctypes.byref(odone), ctypes.byref(io),
                               ctypes.byref(quality), ctypes.byref(runtime))
    if error:
        raise RuntimeError(f"libsoxr: {error.decode()}")
    y = out[:odone.value]
    return np.pad(y, (0, max(0, n_out - len(y))))[:n_out]


class SrcData(ctypes.Structure):
    _fields_ = [("data_in", ctypes.POINTER(ctypes.c_float)), ("data_out", ctypes.POINTER(ctypes.c_float)),
                ("input_frames", ctypes.c_long), ("output_frames", ctypes.c_long),
                ("input_frames_used", ctypes.c_long), ("output_frames_gen", ctypes.c_long),
                ("end_of_input", ctypes.c_int), ("src_ratio", ctypes.c_double)]


CONVERTERS = {"sinc_best": 0, "sinc_medium": 1, "sinc_fastest": 2}
ALL = list(SOXR_RECIPES) + list(CONVERTERS)


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
    if converter in SOXR_RECIPES:
        return [soxr_resample(x, from_rate, to_rate, converter) for x in signals]
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


QUICK = False


def measure(from_rate, to_rate, converter, seconds=4.0, amplitude=0.5):
    if QUICK:
        seconds = 1.0
    t = np.arange(int(from_rate * seconds)) / from_rate
    nyquist = min(from_rate, to_rate) / 2
    fractions = [0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98]
    sweep = list(np.linspace(0.02, 0.995, 25 if QUICK else 100))
    tones = [f * nyquist for f in fractions + sweep]
    aliases = (list(np.linspace(1.05 * to_rate / 2, 0.98 * from_rate / 2, 12 if QUICK else 40))
               if to_rate < from_rate else [])
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


def speed(from_rate, to_rate, converter, seconds=60.0, repeats=5):
    """Audio seconds converted per CPU second (best of `repeats`), 60 s of noise, one thread."""
    x = np.random.default_rng(0).standard_normal(int(from_rate * seconds)).astype(np.float32) * 0.1
    best = float("inf")
    for _ in range(2 if QUICK else repeats):
        start = time.process_time()
        resample_many([x], from_rate, to_rate, converter)
        best = min(best, time.process_time() - start)
    return round(seconds / best, 1)


def main():
    global QUICK
    QUICK = "--quick" in sys.argv
    converters = ([] if "--no-torchaudio" in sys.argv else ["torchaudio"]) + ALL
    torch.set_num_threads(1)
    # torchaudio.functional.pitch_shift resamples int(sr / rate) -> sr. Those rates are often coprime
    # (16 kHz, +2: 17959 -> 16000), and torchaudio's kernel then has sr x (int(sr / rate) + 2 width) taps
    # (about 1 GB). The kernel's response in normalised frequency depends only on the ratio, the rolloff
    # and the width, so each shift is measured at the same ratio with rates scaled down to ~2000 Hz
    # (e.g. 2245 -> 2000 for +2), where the kernel is small; figures are in fractions of Nyquist. Speed is
    # measured at the real rates (16 kHz), without torchaudio for the coprime pairs.
    pairs = []
    for steps in (2, -2, 4, -4):
        rate = 2.0 ** (-steps / 12)
        pairs.append({"what": f"pitch_shift {steps:+d} (ratio {rate:.4f})", "from": int(round(2000 / rate)), "to": 2000,
                      "speed_from": int(16000 / rate), "speed_to": 16000})
    for a, b in ((44100, 16000), (22050, 16000), (44100, 22050), (48000, 16000)):
        pairs.append({"what": f"decode {a} -> {b}", "from": a, "to": b, "speed_from": a, "speed_to": b})
    out = []
    for pair in pairs:
        row = dict(pair)
        for converter in converters:
            row[converter] = measure(pair["from"], pair["to"], converter)
            if converter != "torchaudio" or math.gcd(pair["speed_from"], pair["speed_to"]) >= 100:
                row[converter]["audio_s_per_cpu_s"] = speed(pair["speed_from"], pair["speed_to"], converter)
            print(pair["what"], converter, json.dumps(row[converter]), file=sys.stderr)
        out.append(row)
    # libsoxr's rational fast path: at 160/441 (44.1 kHz -> 16 kHz) and 1/2 it runs a polyphase filter with
    # exact coefficients; one more Hz makes the ratio "irrational" to it (interpolated coefficients).
    fast_path = {}
    for a, b in ((44100, 16000), (44100, 16001), (44100, 22050), (44100, 22051)):
        fast_path[f"{a} -> {b}"] = speed(a, b, "soxr_hq")
        print("soxr_hq speed", a, "->", b, fast_path[f"{a} -> {b}"], file=sys.stderr)
    # The table the README shows: per pair and converter, the figures that decide a default.
    print(f"{'pair':34} {'converter':12} {'flat 0.1dB':>10} {'-3dB':>6} {'in-band err':>11} {'alias':>7} "
          f"{'alias near':>10} {'audio s/CPU s':>13}", file=sys.stderr)
    for row in out:
        for converter in converters:
            r = row[converter]
            print(f"{row['what']:34} {converter:12} {r['edge_0.1db']:>10} {r['edge_3db']:>6} "
                  f"{r['inband_error_db']:>11} {r.get('stopband_alias_db', ''):>7} "
                  f"{r.get('stopband_alias_near_db', ''):>10} {r.get('audio_s_per_cpu_s', ''):>13}", file=sys.stderr)
    kernels = {"torchaudio": "sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99",
               "sinc_best": "SRC_SINC_BEST_QUALITY", "sinc_medium": "SRC_SINC_MEDIUM_QUALITY",
               "sinc_fastest": "SRC_SINC_FASTEST"}
    kernels.update({name: f"libsoxr soxr_quality_spec({recipe}, 0), float32, 1 thread"
                    for name, recipe in SOXR_RECIPES.items()})
    print(json.dumps({"kernels": kernels, "results": out, "soxr_hq_rational_fast_path": fast_path}, indent=1))


if __name__ == "__main__":
    main()
