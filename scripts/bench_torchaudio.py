#!/usr/bin/env python3
"""Reference figures for `mtag bench`: torchaudio on one CPU thread, printed as one JSON line.

--what mel   MelSpectrogram (power 2, Slaney scale and norm, centred, constant padding: librosa's
             defaults, as mtag's logmel) followed by AmplitudeToDB(stype="power", top_db=80), per config
             in --configs (JSON list of {sample_rate, n_fft, hop_length, n_mels}).
(The augmentation benchmark adds more --what choices to this script: pitch_shift, time_stretch.)

Each measurement runs the transform `--repeats` times on `--seconds` of a deterministic test signal
(two tones plus noise, seed 0) after one warm-up call, and reports audio seconds per CPU second of the fastest call.
Exit code 3 when torch or torchaudio cannot be imported (so the caller can try another interpreter).
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torchaudio
except ImportError as error:  # reported to the caller, who may try another interpreter
    print(f"bench_torchaudio.py: {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)


def test_signal(sample_rate, seconds):
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float64) / sample_rate
    x = 0.3 * torch.sin(2 * torch.pi * 440.0 * t) + 0.2 * torch.sin(2 * torch.pi * 97.0 * t)
    return (x + 0.05 * torch.randn(t.shape, generator=generator, dtype=torch.float64)).float()


def cpu_seconds_per_call(function, repeats):
    """The fastest of `repeats` calls in CPU seconds: on a shared machine the minimum is the figure least
    disturbed by other processes (mtag's side measures the same way)."""
    function()  # warm-up: allocations, kernels, caches
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def bench_mel(config, seconds, repeats):
    sample_rate = config["sample_rate"]
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=config["n_fft"], hop_length=config["hop_length"],
        n_mels=config["n_mels"], power=2.0, center=True, pad_mode="constant",
        norm="slaney", mel_scale="slaney")
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)
    x = test_signal(sample_rate, seconds)

    def run():
        with torch.inference_mode():
            return to_db(mel(x))

    frames = run().shape[-1]
    cpu = cpu_seconds_per_call(run, repeats)
    return dict(config, what="mel", frames=frames, cpu_seconds=cpu, audio_seconds_per_cpu_second=seconds / cpu)


BENCHES = {"mel": bench_mel}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--what", choices=sorted(BENCHES), default="mel")
    parser.add_argument("--configs", default='[{"sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96}]',
                        help="JSON list of configurations")
    parser.add_argument("--seconds", type=float, default=30.0, help="input length")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    results = [BENCHES[args.what](config, args.seconds, args.repeats) for config in json.loads(args.configs)]
    print(json.dumps({"torch": torch.__version__, "torchaudio": torchaudio.__version__, "threads": 1,
                      "what": args.what, "results": results}))


if __name__ == "__main__":
    main()
