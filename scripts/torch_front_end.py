"""What scripts/bench_tag_torch.py and scripts/bench_extract_torchaudio.py share: an mtag log-mel front end
(FeatureConfig JSON) in torchaudio, the decode + down-mix + resample of a file, and the two ways of
spending T threads on a list of files. Needs torch, torchaudio and soundfile (the callers check)."""
import concurrent.futures
import threading
import warnings

import soundfile
import torch
import torchaudio

warnings.filterwarnings("ignore", message="At least one mel filterbank")  # fmax 8 kHz with 128 HTK mels


class LogMel:
    """decode(path): mono float32 at the config's rate; features(x): MelSpectrogram + AmplitudeToDB of a
    signal or a batch of signals, as mtag's logmel with the same config computes them."""

    def __init__(self, f, decoder="soundfile"):
        if f.get("kind", "logmel") != "logmel" or f.get("log", "db") != "db":
            raise SystemExit("torch_front_end.py: only log-mel (dB) front ends are implemented")
        self.rate, self.hop, self.decoder = int(f["sample_rate"]), int(f["hop_length"]), decoder
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=self.rate, n_fft=int(f["n_fft"]), win_length=int(f.get("win_length") or f["n_fft"]),
            hop_length=self.hop, f_min=float(f.get("fmin", 0.0)), f_max=float(f["fmax"]) if f.get("fmax") else None,
            n_mels=int(f["n_mels"]), power=float(f.get("power", 2.0)), center=bool(f.get("center", True)),
            pad_mode=f.get("pad_mode", "reflect"), norm="slaney" if f.get("mel_norm") == "slaney" else None,
            mel_scale="htk" if f.get("htk") else "slaney")
        top_db = f.get("top_db")
        self.to_db = torchaudio.transforms.AmplitudeToDB("power", top_db=None if top_db in (None, -1, -1.0) else top_db)
        self.resamplers = {}  # one Resample (its kernel built once) per input rate
        self.lock = threading.Lock()

    def decode(self, path):
        if self.decoder == "torchaudio":
            wave, sr = torchaudio.load(path)
            mono = wave.mean(dim=0)
        else:
            data, sr = soundfile.read(path, dtype="float32", always_2d=True)
            mono = torch.from_numpy(data.mean(axis=1))
        if sr != self.rate:
            with self.lock:
                if sr not in self.resamplers:
                    self.resamplers[sr] = torchaudio.transforms.Resample(sr, self.rate)
            mono = self.resamplers[sr](mono)
        return mono

    def features(self, x):
        return self.to_db(self.mel(x))


def for_each_file(files, threads, mode, decode, finish):
    """Calls finish(i, decode(files[i])) for every file, under torch.inference_mode():
    mode "intraop": in order on this thread with torch.set_num_threads(threads), the next file decoded on a
    background thread meanwhile; mode "files": on `threads` Python threads, torch.set_num_threads(1)."""
    torch.set_num_threads(threads if mode == "intraop" else 1)
    if mode == "intraop":
        with torch.inference_mode(), concurrent.futures.ThreadPoolExecutor(max_workers=1) as decoder:
            pending = decoder.submit(decode, files[0])
            for i in range(len(files)):
                item = pending.result()
                if i + 1 < len(files):
                    pending = decoder.submit(decode, files[i + 1])
                finish(i, item)
        return

    def work(i):
        with torch.inference_mode():
            finish(i, decode(files[i]))

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(len(files))))
