#!/usr/bin/env python3
"""Independent check of bench_python.py's torch figure: the same torch DataLoader work in a few lines.
Per clip: torchaudio.load of a random window -> cached Resample to 16 kHz -> 3 s crop -> gain, white noise,
pitch shift (whole steps; phase vocoder n_fft 512 + Resample from the intermediate rate rounded to 100 Hz,
cached per step: torchaudio.functional.pitch_shift rebuilds a kernel of thousands of taps per call), time
stretch 0.8-1.25 (phase vocoder, length kept), each p=0.5 -> 96-band Slaney log-mel (n_fft 512, hop 256).
Batch 16, shuffle, one torch thread per worker, one warm-up epoch, then --epochs timed one by one. Prints
{"clips_per_second": best epoch, "median_clips_per_second": median epoch}.
    /usr/bin/python3 scripts/bench_torch_loader_minimal.py CORPUS/manifest.csv --workers 2 --epochs 2"""
import argparse, csv, json, math, os, random, time
import torch, torchaudio
T = torchaudio.transforms
p = argparse.ArgumentParser(); p.add_argument("manifest"); p.add_argument("--workers", type=int, default=2)
p.add_argument("--epochs", type=int, default=2); a = p.parse_args()
base = os.path.dirname(os.path.abspath(a.manifest))
paths = [os.path.join(base, r["path"]) for r in csv.DictReader(open(a.manifest))]
SR, N = 16000, 187 * 256
win, adv = torch.hann_window(512), torch.linspace(0, math.pi * 128, 257)[..., None]
mel = T.MelSpectrogram(SR, n_fft=512, hop_length=256, n_mels=96, norm="slaney", mel_scale="slaney", pad_mode="constant")
db, fit = T.AmplitudeToDB(top_db=80.0), lambda y, n: torch.nn.functional.pad(y[:n], (0, max(0, n - y.numel())))
steps = {n: (2 ** (-n / 12), T.Resample(round(SR * 2 ** (n / 12) / 100) * 100, SR)) for n in (-2, -1, 1, 2)}
decode = {sr: T.Resample(sr, SR) for sr in {torchaudio.info(q).sample_rate for q in paths} if sr != SR}
def stretch(x, rate, pad):
    s = torch.stft(x, 512, 128, window=win, pad_mode=pad, return_complex=True)
    return torch.istft(torchaudio.functional.phase_vocoder(s, rate, adv), 512, 128, window=win, length=round(x.numel() / rate))
def item(i):
    info = torchaudio.info(paths[i]); need = int(N * info.sample_rate / SR) + 64
    x, sr = torchaudio.load(paths[i], frame_offset=random.randint(0, max(0, info.num_frames - need)), num_frames=need)
    x = fit(decode[sr](x.mean(0)) if sr != SR else x.mean(0), N)
    if random.random() < 0.5: x = x * 10 ** (random.uniform(-6, 6) / 20)
    if random.random() < 0.5:
        e = torch.randn_like(x); x = x + e * x.norm() / e.norm() * 10 ** (-random.uniform(10, 40) / 20)
    if random.random() < 0.5:
        rate, resample = steps[random.choice((-2, -1, 1, 2))]; x = fit(resample(stretch(x, rate, "reflect")), N)
    if random.random() < 0.5: x = fit(stretch(x, math.exp(random.uniform(math.log(0.8), math.log(1.25))), "constant"), N)
    return db(mel(x))
class Clips(torch.utils.data.Dataset):
    __len__, __getitem__ = lambda self: len(paths), lambda self, i: torch.no_grad()(item)(i)
def init(w): torch.set_num_threads(1); random.seed(1000 + w)
torch.set_num_threads(1)
loader = torch.utils.data.DataLoader(Clips(), batch_size=16, shuffle=True, num_workers=a.workers, worker_init_fn=init, persistent_workers=a.workers > 0)
sum(b.shape[0] for b in loader); rates = []
for _ in range(a.epochs):
    t = time.perf_counter(); rates.append(sum(b.shape[0] for b in loader) / (time.perf_counter() - t))
rates.sort()
print(json.dumps({"workers": a.workers, "epochs": a.epochs, "clips_per_second": rates[-1],
                  "median_clips_per_second": (rates[(len(rates) - 1) // 2] + rates[len(rates) // 2]) / 2}))
