#!/usr/bin/env python3
"""Independent cross-check of scripts/bench_tag_torch.py: the same job written as plainly as possible
(no prefetching, no shared code with it but the model twin), so that a slow reference would show.

soundfile decode -> mean to mono -> torchaudio.functional.resample -> mtag tag's non-overlapping windows
-> MelSpectrogram + AmplitudeToDB -> twin in batches of 16 under inference_mode -> mean sigmoid.
Prints one JSON line: files, audio_seconds, wall_seconds (after imports and model load).
Usage: /usr/bin/python3 scripts/bench_tag_torch_minimal.py MODEL_DIR THREADS FILE...
"""
import json
import os
import sys
import time
import warnings

try:
    import soundfile
    import torch
    import torchaudio
except ImportError as error:
    print(f"bench_tag_torch_minimal.py: {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)
warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_check import build_twin, read_safetensors  # noqa: E402

model_dir, threads, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
torch.set_num_threads(threads)
card = json.load(open(os.path.join(model_dir, "model.json")))
arch, f = card["architecture"], card["metadata"]["features"]
net = build_twin(arch["preset"], arch["options"], arch["n_tags"])
net.load_state_dict({k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()})
net.eval()
sr, hop, frames = f["sample_rate"], f["hop_length"], card["metadata"]["input"]["frames"]
mel = torchaudio.transforms.MelSpectrogram(sr, n_fft=f["n_fft"], hop_length=hop, f_min=f["fmin"], f_max=f["fmax"],
                                           n_mels=f["n_mels"], norm=None, mel_scale="htk" if f["htk"] else "slaney")
db = torchaudio.transforms.AmplitudeToDB("power")
start, audio = time.perf_counter(), 0.0
with torch.inference_mode():
    for path in files:
        x, rate = soundfile.read(path, dtype="float32", always_2d=True)
        y = torchaudio.functional.resample(torch.from_numpy(x.mean(axis=1)), rate, sr)
        audio += y.shape[0] / sr
        n = max(1, (1 + y.shape[0] // hop) // frames) if 1 + y.shape[0] // hop > frames else 1
        y = torch.nn.functional.pad(y, (0, max(0, n * frames * hop - y.shape[0])))
        chunks = torch.stack([y[i * frames * hop:i * frames * hop + (frames - 1) * hop] for i in range(n)])
        scores = torch.cat([torch.sigmoid(net(db(mel(chunks[i:i + 16])))) for i in range(0, n, 16)]).mean(dim=0)
print(json.dumps({"files": len(files), "audio_seconds": audio, "wall_seconds": time.perf_counter() - start}))
