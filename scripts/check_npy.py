#!/usr/bin/env python3
"""Checks `mtag extract` output with numpy: every .npy listed in OUT/features.json loads with np.load,
is float32 C-order 2-D [bins, frames] with the recorded frame count, and holds finite values.

usage: /usr/bin/python3 scripts/check_npy.py OUT [--torchaudio]   (an extract output folder)
       /usr/bin/python3 scripts/check_npy.py FILE.npy ...          (single files: dtype, order, shape only)

--torchaudio also recomputes every logmel output whose input is a 16-bit PCM WAV at the config's sample
rate with torchaudio (MelSpectrogram with Slaney scale and norm + AmplitudeToDB) and prints the largest
difference in dB (resampled inputs are skipped: the resamplers differ).
"""
import json
import pathlib
import sys

import numpy as np


def check_file(path, bins=None, frames=None):
    array = np.load(path, mmap_mode="r")
    problems = []
    if array.dtype != np.dtype("<f4"):
        problems.append(f"dtype {array.dtype}, expected float32")
    if not array.flags["C_CONTIGUOUS"]:
        problems.append("not C order")
    if array.ndim != 2:
        problems.append(f"shape {array.shape}, expected 2-D [bins, frames]")
    elif (bins is not None and array.shape[0] != bins) or (frames is not None and array.shape[1] != frames):
        problems.append(f"shape {array.shape}, features.json says ({bins}, {frames})")
    if not np.all(np.isfinite(array)):
        problems.append("non-finite values")
    print(f"{path}: shape {array.shape} {array.dtype} {'OK' if not problems else '; '.join(problems)}")
    return not problems


def torchaudio_difference(entry, config):
    """Largest |mtag - torchaudio| in dB for one logmel output, or None when it cannot be compared."""
    import wave
    import torch
    import torchaudio
    try:
        with wave.open(entry["input"]) as w:
            if w.getsampwidth() != 2 or w.getframerate() != config["sample_rate"]:
                return None
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
            x = x.reshape(-1, w.getnchannels()).mean(axis=1)
    except (wave.Error, OSError):
        return None
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=config["sample_rate"], n_fft=config["n_fft"], hop_length=config["hop_length"],
        win_length=config["win_length"], n_mels=config["n_mels"], f_min=config["fmin"], f_max=config["fmax"],
        power=config["power"], center=config["center"], pad_mode=config["pad_mode"],
        norm="slaney" if config["mel_norm"] == "slaney" else None, mel_scale="htk" if config["htk"] else "slaney")
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=config["top_db"])
    reference = to_db(mel(torch.from_numpy(x))).numpy()
    return float(np.abs(np.load(entry["path"]) - reference).max())


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    ok = True
    target = pathlib.Path(argv[1])
    if target.is_dir():
        doc = json.loads((target / "features.json").read_text())
        config = doc["config"]
        compare = "--torchaudio" in argv and config["kind"] == "logmel" and config["log"] == "db" and \
            config["ref"] == 1.0 and config["window"] == "hann"
        for entry in doc["outputs"]:
            ok &= check_file(target / entry["output"], entry["bins"], entry["frames"])
            if compare:
                difference = torchaudio_difference(dict(entry, path=target / entry["output"]), config)
                if difference is not None:
                    print(f"  torchaudio: max |difference| {difference:.2e} dB")
                    ok &= difference < 1e-2
        print(f"{len(doc['outputs'])} outputs, {len(doc['failures'])} failures, config hash {doc['config_hash']}")
    else:
        for name in [a for a in argv[1:] if not a.startswith("--")]:
            ok &= check_file(name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
