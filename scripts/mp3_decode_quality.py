#!/usr/bin/env python3
"""Error of mtag's MP3 decoding modes against the full-rate libsndfile decode + libsoxr soxr_hq.

Why: `mtag extract/tag --mp3-decode fast` (mtag.load(..., mp3_decode="fast")) synthesises MP3 at half or
quarter rate when the target rate is low enough (44.1 kHz -> 16 kHz: at 22.05 kHz, then soxr_hq to 16 kHz),
and `full` mixes to mono inside libmpg123 instead of after it (dsp/mp3_decoder.hpp). This script says what each
costs in accuracy, on real MP3s (e.g. the synthetic library of `mtag bench extract`), beside the resampler's own
error (soxr_hq against soxr_vhq on the same input), so the README's choice of default can be checked.

Reference: soundfile (libsndfile, which decodes MP3 through libmpg123 at the full rate) -> average of the
channels in float32 -> libsoxr soxr_hq to the target rate (ctypes, as dsp/resample_soxr.cpp creates it; the
function comes from scripts/resample_quality.py). For every file and mode it measures, on the whole signal:
  max_abs   the largest absolute sample difference;
  snr_db    10 log10(sum ref^2 / sum (x - ref)^2);
  logmel    the log-mel (n_fft 512, hop 256, 128 mel bands, power, 10 log10 with ref=1, amin 1e-10; mtag's
            default front end) difference in dB over the bins within 80 dB of the reference's peak:
            median and maximum.
Rows: "soxr_vhq vs soxr_hq" (the resampler's own error class), "full" and "fast".
Usage: /usr/bin/python3 scripts/mp3_decode_quality.py [--build build] [--sr 16000] [--limit N] FILE_OR_DIR...
Needs the built Python package (BUILD/python), numpy, soundfile. Prints a table on stderr, JSON on stdout.
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import soundfile


def logmel_db(mtag, y, sr):
    S = mtag.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=256, n_mels=128, power=2.0)
    return 10.0 * np.log10(np.maximum(S.astype(np.float64), 1e-10))


def compare(mtag, ref, x, sr):
    n = min(len(ref), len(x))
    ref64, x64 = ref[:n].astype(np.float64), x[:n].astype(np.float64)
    e = x64 - ref64
    a, b = logmel_db(mtag, ref[:n], sr), logmel_db(mtag, x[:n], sr)
    keep = a > a.max() - 80.0
    d = np.abs(a - b)[keep]
    return {"length_difference": int(len(x) - len(ref)), "max_abs": float(np.abs(e).max()),
            "snr_db": float(10 * np.log10(np.sum(ref64 ** 2) / max(np.sum(e ** 2), 1e-300))),
            "logmel_db_median": float(np.median(d)), "logmel_db_max": float(d.max())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--build", default="build")
    parser.add_argument("--sr", type=int, default=16000)
    parser.add_argument("--limit", type=int, default=0, help="at most this many files")
    args = parser.parse_args()
    sys.path.insert(0, str(pathlib.Path(args.build) / "python"))
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import mtag
    from resample_quality import soxr_resample

    files = []
    for name in args.inputs:
        p = pathlib.Path(name)
        files += sorted(p.rglob("*.mp3")) if p.is_dir() else [p]
    if args.limit:
        files = files[:args.limit]
    rows = {"soxr_vhq vs soxr_hq": [], "full": [], "fast": []}
    for path in files:
        stereo, native = soundfile.read(str(path), dtype="float32", always_2d=True)
        mono = stereo.mean(axis=1, dtype=np.float32) if stereo.shape[1] > 1 else stereo[:, 0]
        ref = soxr_resample(mono, native, args.sr, "soxr_hq")
        rows["soxr_vhq vs soxr_hq"].append(compare(mtag, ref, soxr_resample(mono, native, args.sr, "soxr_vhq"), args.sr))
        for mode in ("full", "fast"):
            y, _ = mtag.load(str(path), sr=args.sr, mp3_decode=mode)
            rows[mode].append(compare(mtag, ref, y, args.sr))
    summary = {}
    print(f"{len(files)} MP3 files -> {args.sr} Hz mono, against libsndfile full-rate decode + soxr_hq", file=sys.stderr)
    print(f"{'mode':<20} {'max abs (worst)':>16} {'SNR dB (worst)':>15} {'log-mel dB median':>18} {'log-mel dB max':>15}"
          f" {'length diff':>12}", file=sys.stderr)
    for mode, results in rows.items():
        s = {"files": len(results),
             "max_abs": max(r["max_abs"] for r in results),
             "snr_db_min": min(r["snr_db"] for r in results),
             "logmel_db_median": float(np.median([r["logmel_db_median"] for r in results])),
             "logmel_db_max": max(r["logmel_db_max"] for r in results),
             "length_difference_max": max(abs(r["length_difference"]) for r in results)}
        summary[mode] = s
        print(f"{mode:<20} {s['max_abs']:>16.3g} {s['snr_db_min']:>15.1f} {s['logmel_db_median']:>18.2g}"
              f" {s['logmel_db_max']:>15.3g} {s['length_difference_max']:>12d}", file=sys.stderr)
    print(json.dumps({"sr": args.sr, "files": [str(f) for f in files], "summary": summary}))


if __name__ == "__main__":
    main()
