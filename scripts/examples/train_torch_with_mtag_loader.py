#!/usr/bin/env python3
"""Train a small PyTorch tagger for one epoch, fed by mtag's C++ batch loader (mtag.torch.IterableDataset).

mtag decodes, crops, augments and computes log-mel spectrograms on its own worker threads; PyTorch only
sees ready float32 batches. Without --data it renders a small synthetic corpus with `mtag synth` first.

    scripts/build.sh
    PYTHONPATH=build/python /usr/bin/python3 scripts/examples/train_torch_with_mtag_loader.py --clips 32

Prints one line per epoch: "epoch N: mean loss L (B batches, C clips)". Exits 77 (skipped) when torch is
not installed, unless CI=true.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="a dataset mtag reads (manifest.csv or its folder); default: a new synth corpus")
    p.add_argument("--work", default="/tmp/mtag_torch_example", help="where the synthetic corpus goes")
    p.add_argument("--mtag", default=os.path.join(ROOT, "build", "mtag"), help="the mtag executable (for synth)")
    p.add_argument("--clips", type=int, default=32)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    try:
        import torch
    except ImportError:
        print("torch is not installed (Debian: python3-torch)", file=sys.stderr)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    import mtag
    import mtag.torch

    data = args.data
    if data is None:
        data = os.path.join(args.work, "corpus")
        if not os.path.exists(os.path.join(data, "manifest.csv")):
            subprocess.run([args.mtag, "--quiet", "synth", "--out", data, "--clips", str(args.clips), "--seconds",
                            str(args.seconds), "--sample-rate", "16000", "--seed", str(args.seed)], check=True)

    torch.manual_seed(args.seed)
    dataset = mtag.torch.IterableDataset(
        data=data,
        features={"kind": "logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 64},
        augmentation={"transforms": [{"type": "gain", "p": 0.5, "gain_db": [-6, 6]},
                                     {"type": "coloured_noise", "p": 0.5, "snr_db": [20, 40]}]},
        batch_size=4, crop_seconds=1.5, seed=args.seed, workers=args.workers, split="train")
    n_tags = len(dataset.loader.tags)

    # A small 1-D CNN over log-mel frames (bands as channels), global max pool, one logit per tag.
    model = torch.nn.Sequential(
        torch.nn.BatchNorm1d(64),
        torch.nn.Conv1d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
        torch.nn.Conv1d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool1d(1), torch.nn.Flatten(), torch.nn.Linear(64, n_tags))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=0)  # mtag's threads load

    for epoch in range(args.epochs):
        dataset.set_epoch(epoch)
        model.train()
        total, batches, clips = 0.0, 0, 0
        for features, targets, ids in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(features), targets)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            clips += len(ids)
        print(f"epoch {epoch}: mean loss {total / max(batches, 1):.4f} ({batches} batches, {clips} clips)", flush=True)


if __name__ == "__main__":
    main()
