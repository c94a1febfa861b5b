#!/usr/bin/env python3
"""How hard is a `mtag synth` corpus? Two baselines with 5-fold cross-validation over its clips:

1. trivial: for each tag, the best depth-1 decision tree on ONE scalar (RMS, peak, crest factor, spectral
   centroid, zero-crossing rate, spectral flux): what a model could get without listening to the music;
2. bag of frames: logistic regression on the mean and standard deviation of 40 log band energies.

    python3 scripts/synth_difficulty.py demo/     (needs numpy and scikit-learn: scripts/setup.sh --bench)
"""
import csv
import sys
import wave

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier


def load(root, path):
    with wave.open(f"{root}/{path}") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64) / 32768.0
        return x.reshape(-1, w.getnchannels()).mean(axis=1)


def main(root):
    rows = list(csv.DictReader(open(f"{root}/manifest.csv")))
    scalars, bands, tags = [], [], []
    n_fft, hop = 1024, 512
    edges = np.unique(np.geomspace(1, n_fft // 2, 41).astype(int))
    window = np.hanning(n_fft)
    for row in rows:
        x = load(root, row["path"])
        power = np.array([np.abs(np.fft.rfft(x[i:i + n_fft] * window)) ** 2
                          for i in range(0, len(x) - n_fft, hop)])
        mag = np.sqrt(power)
        centroid = (mag * np.arange(mag.shape[1])).sum(1) / (mag.sum(1) + 1e-9)
        rms, peak = np.sqrt(np.mean(x ** 2)), np.abs(x).max()
        flux = np.mean(np.maximum(np.diff(mag, axis=0), 0).sum(1))
        zcr = np.mean(np.abs(np.diff(np.sign(x)))) / 2
        scalars.append([rms, peak, peak / rms, centroid.mean(), zcr, flux])
        logb = np.log(np.stack([power[:, a:b].sum(1) for a, b in zip(edges[:-1], edges[1:])], 1) + 1e-8)
        bands.append(np.concatenate([logb.mean(0), logb.std(0)]))
        tags.append(row["tags"].split(";"))
    scalars, bands = np.array(scalars), np.array(bands)
    names = ["rms", "peak", "crest", "centroid", "zcr", "flux"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    genres = [t[0] for t in tags]
    print(f"{len(rows)} clips; genre accuracy (bag of frames, {len(set(genres))} classes): "
          f"{cross_val_score(model, bands, genres, cv=5).mean():.2f}")
    print(f"{'tag':10} {'clips':>5}  {'best single scalar':>22}  {'bag of frames':>13}   (balanced accuracy)")
    for tag in sorted({t for ts in tags for t in ts}):
        y = np.array([tag in ts for ts in tags])
        if y.sum() < 10 or (~y).sum() < 10:
            continue
        trivial = max((cross_val_score(DecisionTreeClassifier(max_depth=1), scalars[:, [j]], y, cv=5,
                                       scoring="balanced_accuracy").mean(), names[j]) for j in range(len(names)))
        bof = cross_val_score(model, bands, y, cv=5, scoring="balanced_accuracy").mean()
        print(f"{tag:10} {int(y.sum()):5}  {trivial[1]:>13} {trivial[0]:8.2f}  {bof:13.2f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "demo")
