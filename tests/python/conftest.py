"""Shared fixtures of mtag's Python tests (run by ctest with PYTHONPATH=build/python; see tests/CMakeLists.txt).

Environment set by ctest: MTAG_EXE (build/mtag), MTAG_SHARED_DIR (../shared), MTAG_TEST_TMP (scratch),
MTAG_BUILD_DIR. A fixture from ../shared that is missing fails the test under CI=true, skips it otherwise.
"""
import csv
import json
import os
import subprocess
import wave

import numpy as np
import pytest

MTAG_EXE = os.environ.get("MTAG_EXE", "build/mtag")
SHARED = os.environ.get("MTAG_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
TMP_ROOT = os.environ.get("MTAG_TEST_TMP", "/tmp/mtag_python_tests")


def require_fixture(path, what):
    """The path, or pytest.fail under CI=true / pytest.skip elsewhere when it is missing."""
    if os.path.exists(path):
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing at {path} (CI=true: fixtures must be present)")
    pytest.skip(f"{what} not found at {path}")


def run_mtag(*args, check=True):
    """Runs the mtag executable; returns the CompletedProcess (text)."""
    result = subprocess.run([MTAG_EXE, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"mtag {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}")
    return result


def write_wav(path, y, sr):
    """16-bit PCM WAV (what most datasets hold)."""
    pcm = np.clip(np.round(np.asarray(y) * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if pcm.ndim == 1 else pcm.shape[0])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((pcm if pcm.ndim == 1 else pcm.T).tobytes())


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory):
    return tmp_path_factory.mktemp("mtag")


@pytest.fixture(scope="session")
def music_wav(tmp_root):
    """3 s of harmonic notes plus a little noise at 22.05 kHz: a signal with structure in every band."""
    sr = 22050
    rng = np.random.default_rng(7)
    t = np.arange(3 * sr) / sr
    y = 0.01 * rng.standard_normal(t.size)
    for k, f0 in enumerate([110.0, 220.0 * 2 ** (4 / 12), 440.0 * 2 ** (7 / 12), 1318.5]):
        env = np.exp(-3.0 * ((t - 0.6 * k) % 1.5))
        for h in range(1, 5):
            y += 0.08 / h * env * np.sin(2 * np.pi * f0 * h * t)
    path = tmp_root / "music.wav"
    write_wav(path, y, sr)
    return path


@pytest.fixture(scope="session")
def corpus(tmp_root):
    """A small `mtag synth` corpus: 10 clips of 2 s at 16 kHz."""
    require_fixture("/usr/share/sounds/sf2/TimGM6mb.sf2", "the TimGM6mb soundfont (scripts/setup.sh installs it)")
    out = tmp_root / "corpus"
    run_mtag("--quiet", "--threads", "2", "synth", "--out", out, "--clips", 10, "--seconds", 2, "--sample-rate", 16000,
             "--seed", 3)
    return out


@pytest.fixture(scope="session")
def run_dir(tmp_root, corpus):
    """A tiny cnn1d run trained for one epoch on the corpus (log.jsonl, model.json, model.safetensors)."""
    config = tmp_root / "train.json"
    config.write_text(json.dumps({
        "model": {"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3],
                  "pools": [2, 1], "dense": [8]},
        "features": {"kind": "logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 16},
        "batch_size": 4, "epochs": 1, "evaluation": {"eval_chunks": 2}}))
    # A few clips get no validation clip from the stratified split: a manifest with every 4th clip in it.
    with open(corpus / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        row["split"] = "valid" if i % 4 == 1 else "train"
    manifest = corpus / "manifest_with_valid.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_root / "run"
    run_mtag("--quiet", "--threads", "1", "--seed", 2, "train", "--config", config, "--data", manifest, "--out", out)
    return out
