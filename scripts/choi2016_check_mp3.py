#!/usr/bin/python3
"""End-to-end check of the imported MusicTaggerCRNN (choi2016_crnn) on real music: mtag vs a PyTorch pipeline.

For each MP3 in --data (default /work/shared/pretrained/choi2016):

1. Scores. `mtag tag --model DIR --all-scores --format json SONG.mp3` (DIR from `mtag model import --from
   keras-h5 --arch choi2016_crnn music_tagger_crnn_weights_tensorflow.h5`, or with --via-name the name
   choi2016_crnn through MTAG_MODEL_MIRROR=--data, MTAG_HOME=a temp dir) against the PyTorch pipeline of
   scripts/choi2016_reference.py: the same MP3 decoded by libsndfile (python3-soundfile), mixed to mono,
   resampled to 12 kHz by torchaudio (defaults), crop src[(n - 349440) // 2 ...] (upstream's centre rule),
   librosa-style melgram, the float64 PyTorch re-implementation of the Keras model. Both decode with
   libsndfile; mtag resamples with libsamplerate. Nothing is aligned: target max |score diff| <= --tol
   (0.03) on every tag. The model is very sensitive to where the crop starts (its first BatchNorm
   normalises each time position with the statistics of the training crops: a shift of ONE 12 kHz sample
   can move a score by 0.1), so a miss is diagnosed: the torch pipeline is also run with the crop where
   mtag's rule would put it if it centred on libsndfile's header frame count (SF_INFO.frames, an estimate
   for MP3) instead of the decoded length (and -4 .. +8 samples around it), +-1 sample around the centre,
   and `mtag tag` is also run on the decoded samples written as a float WAV (whose header count is exact):
   the score difference left by the resamplers alone.

2. Melgram. mtag's melgram of the centre crop against the upstream .npy (SONG.npy, the model input the
   upstream code produced with its own decoder), aligned by the best crop shift:
   a. "torchaudio 12k": the Python-decoded 12 kHz signal is cut at (n - 349440) // 2 + shift, written as a
      12 kHz float WAV, and `mtag extract --config features.json` computes its melgram with the model
      directory's own front end (model.json "features", what `mtag tag` feeds the model). MAD (mean |dB
      difference|) against the .npy, shift searched coarse-to-fine (every --coarse-step samples over
      +-(--search), then every sample around the best). Target: MAD <= --mad-target (0.2 dB) at the best
      shift. "mtag-vs-py" is the MAD between mtag's and the Python melgram of the same crop (front end only).
   b. "mtag resampler": the same, but the 44.1 kHz decoded samples are cut (349440 * 44100 / 12000 =
      1284192 samples) and mtag resamples them (libsamplerate, --resample-quality) -- mtag's own decode
      path, since mtag's libsndfile decode of the MP3 equals this WAV's samples. Shift searched at the
      native rate (1/3.675 of a 12 kHz sample), reported in 12 kHz samples. Information (same target shown).

Prints tables; exits 1 when a target is missed, 2 on a usage or tool error.

Usage: scripts/choi2016_check_mp3.py [--mtag build/mtag] [--data DIR] [--model DIR | --via-name]
       [--tol 0.03] [--mad-target 0.2] [--search 512] [--coarse-step 8] [--threads 2] [--workdir DIR]
Needs Debian's /usr/bin/python3 with python3-torch, -torchaudio, -numpy, -h5py, -soundfile, and
scripts/choi2016_reference.py (this folder, or --reference PATH).
"""
import argparse
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf
import torch

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
H5 = "music_tagger_crnn_weights_tensorflow.h5"
BATCH = 16  # crops written and extracted at a time (a 44.1 kHz crop is 5 MB)

# The upstream README's MusicTaggerCRNN top 10 (rounded to 3 decimals), as quoted in the data folder's README.
PUBLISHED = {
    "bensound-cute": {"jazz": 0.444, "instrumental": 0.151, "folk": 0.103, "Hip-Hop": 0.103, "ambient": 0.077,
                      "guitar": 0.068, "rock": 0.058, "acoustic": 0.054, "experimental": 0.051, "electronic": 0.042},
    "bensound-actionable": {"jazz": 0.416, "instrumental": 0.181, "Hip-Hop": 0.085, "folk": 0.085, "rock": 0.081,
                            "ambient": 0.068, "guitar": 0.062, "Progressive rock": 0.048, "experimental": 0.046,
                            "acoustic": 0.046},
}


def load_reference(path):
    candidates = [path] if path else [os.path.join(HERE, "choi2016_reference.py")]
    for c in candidates:
        if c and os.path.isfile(c):
            spec = importlib.util.spec_from_file_location("choi2016_reference", c)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module, c
    raise SystemExit(f"choi2016_check_mp3.py: choi2016_reference.py not found (tried {candidates}); give --reference")


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        print(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}", file=sys.stderr)
        sys.exit(2)
    return r.stdout


def mtag_scores(args, model, song, env=None):
    out = run([args.mtag, "--threads", str(args.threads), "tag", "--model", model, "--all-scores", "--format", "json",
               "--resample-quality", args.resample_quality, song], env)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if len(rows) != 1:
        raise SystemExit(f"mtag tag printed {len(rows)} results for {song}")
    return {t["tag"]: float(t["score"]) for t in rows[0]["tags"]}, rows[0]


def torch_scores(ref, model, y12, shift):
    mg = ref.melgram_librosa_style(ref.centre_crop(y12, shift))[None, None]
    with torch.no_grad():
        return model(torch.from_numpy(mg))[0].numpy()


def decode_native(path):
    """libsndfile decode, mono by channel mean (as choi2016_reference.decode_audio, before resampling)."""
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    return data.mean(axis=1).astype(np.float32), sr


def cut(signal, length, start):
    """signal[start:start + length], zero outside the signal."""
    out = np.zeros(length, dtype=np.float32)
    lo, hi = max(start, 0), min(start + length, len(signal))
    if hi > lo:
        out[lo - start:hi - start] = signal[lo:hi]
    return out


def crop_mads(args, crops, rate, target, work, config_path, python_melgram=None):
    """crops: {shift: samples at `rate`}. mtag extract of each (as a float WAV) -> MAD against `target`, and
    against python_melgram(shift) when given. Returns {shift: (mad, mad_vs_python or nan)}."""
    res = {}
    shifts = sorted(crops)
    for b in range(0, len(shifts), BATCH):
        part = shifts[b:b + BATCH]
        wav_dir, out_dir = os.path.join(work, "crops_wav"), os.path.join(work, "crops_npy")
        for d in (wav_dir, out_dir):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        paths = {}
        for s in part:
            paths[s] = os.path.join(wav_dir, ("shift_p%d" if s >= 0 else "shift_m%d") % abs(s) + ".wav")
            sf.write(paths[s], crops[s], rate, subtype="FLOAT")
        run([args.mtag, "--threads", str(args.threads), "-q", "extract", *paths.values(), "--out", out_dir,
             "--config", config_path, "--resample-quality", args.resample_quality])
        for s in part:
            stem = os.path.splitext(os.path.basename(paths[s]))[0]
            hits = glob.glob(os.path.join(out_dir, "**", stem + ".npy"), recursive=True)
            if len(hits) != 1:
                raise SystemExit(f"mtag extract: expected one output for {paths[s]}, found {hits}")
            m = np.load(hits[0]).astype(np.float64)
            if m.shape != target.shape:
                raise SystemExit(f"mtag extract gave {m.shape} for {paths[s]}, expected {target.shape}")
            vs_py = float(np.mean(np.abs(m - python_melgram(s)))) if python_melgram else float("nan")
            res[s] = (float(np.mean(np.abs(m - target))), vs_py)
        shutil.rmtree(wav_dir, ignore_errors=True)  # up to 16 x 5 MB of 44.1 kHz crops
    return res


def search(args, make_crop, rate, step, span, target, work, config_path, python_melgram=None):
    """Coarse-to-fine search of the shift (in samples at `rate`) minimising the MAD; includes shift 0."""
    coarse = sorted(set(range(-span, span + 1, step)) | {0})
    res = crop_mads(args, {s: make_crop(s) for s in coarse}, rate, target, work, config_path, python_melgram)
    centre = min(res, key=lambda s: res[s][0])
    fine = [s for s in range(centre - step + 1, centre + step) if s not in res]
    res.update(crop_mads(args, {s: make_crop(s) for s in fine}, rate, target, work, config_path, python_melgram))
    best = min(res, key=lambda s: res[s][0])
    return best, res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtag", default=os.path.join(HERE, "..", "build", "mtag"))
    ap.add_argument("--data", default="/work/shared/pretrained/choi2016")
    ap.add_argument("--model", help="an existing choi2016_crnn model directory (default: import the .h5)")
    ap.add_argument("--via-name", action="store_true",
                    help="tag with the model name choi2016_crnn (MTAG_MODEL_MIRROR=--data, MTAG_HOME=temp)")
    ap.add_argument("--reference", help="path of choi2016_reference.py")
    ap.add_argument("--tol", type=float, default=0.03, help="max |score diff| allowed on every tag")
    ap.add_argument("--mad-target", type=float, default=0.2, help="max aligned melgram MAD (dB)")
    ap.add_argument("--search", type=int, default=512, help="shift search range (12 kHz samples, +-)")
    ap.add_argument("--coarse-step", type=int, default=8, help="coarse search step (12 kHz samples)")
    ap.add_argument("--resample-quality", default="medium", choices=["best", "medium", "fastest"],
                    help="mtag's libsamplerate quality (tag and extract; mtag's default is medium)")
    ap.add_argument("--threads", type=int, default=2, help="mtag's --threads")
    ap.add_argument("--torch-resampler", default="torchaudio_default", choices=["torchaudio_default", "kaiser_best"],
                    help="torchaudio's resampler settings on the torch side: its defaults, or kaiser_best (torchaudio's "
                         "documented equivalent of resampy's kaiser_best, the resampler upstream's librosa used)")
    ap.add_argument("--workdir", help="keep intermediate files here (default: a temp dir)")
    args = ap.parse_args()

    ref, ref_path = load_reference(args.reference)
    if not os.path.isfile(args.mtag):
        raise SystemExit(f"choi2016_check_mp3.py: no mtag binary at {args.mtag}")
    work = args.workdir or tempfile.mkdtemp(prefix="mtag_choi2016_mp3_")
    os.makedirs(work, exist_ok=True)
    songs = sorted(glob.glob(os.path.join(args.data, "*.mp3")))
    if not songs:
        raise SystemExit(f"choi2016_check_mp3.py: no .mp3 in {args.data}")

    env = None
    if args.via_name:
        env = dict(os.environ, MTAG_MODEL_MIRROR=args.data, MTAG_HOME=os.path.join(work, "mtag_home"))
        model = "choi2016_crnn"
        run([args.mtag, "model", "fetch", "choi2016_crnn"], env)
        cards = glob.glob(os.path.join(env["MTAG_HOME"], "**", "model.json"), recursive=True)
        if len(cards) != 1:
            raise SystemExit(f"mtag model fetch left {len(cards)} model.json files under {env['MTAG_HOME']}")
        model_dir = os.path.dirname(cards[0])
    elif args.model:
        model = model_dir = args.model
    else:
        model = model_dir = os.path.join(work, "choi2016_crnn")
        if not os.path.isfile(os.path.join(model_dir, "model.json")):
            run([args.mtag, "model", "import", "--from", "keras-h5", "--arch", "choi2016_crnn",
                 os.path.join(args.data, H5), "--out", model_dir])
    card = json.load(open(os.path.join(model_dir, "model.json")))
    preset = card.get("architecture", {}).get("preset")
    card = card.get("metadata", card)  # the run card (features, tags, ...) sits under "metadata"
    features = card["features"]
    if int(features["sample_rate"]) != ref.SR:
        raise SystemExit(f"the model's front end runs at {features['sample_rate']} Hz, the reference at {ref.SR}")
    config_path = os.path.join(work, "features.json")
    with open(config_path, "w") as f:
        json.dump(features, f)
    if card["tags"] != ref.TAGS:
        print("WARNING: the model's tags differ from the reference's tag order", file=sys.stderr)

    reference_model = ref.build("choi2016_crnn")
    print(f"model {model_dir} (preset {preset}); reference {ref_path}")
    print(f"front end (model.json features): {json.dumps(features, sort_keys=True)}")
    rows, failed = [], False
    for song in songs:
        name = os.path.splitext(os.path.basename(song))[0]
        print(f"{name}: tagging and aligning ...", file=sys.stderr)
        # 1. scores
        got, raw = mtag_scores(args, model, song, env)
        got_v = np.array([got[t] for t in ref.TAGS])
        y12 = ref.decode_audio(song, resampler=args.torch_resampler)
        want = torch_scores(ref, reference_model, y12, 0)
        diffs = np.abs(got_v - want)
        worst = int(diffs.argmax())
        top_m = [ref.TAGS[i] for i in np.argsort(-got_v)[:3]]
        top_r = [ref.TAGS[i] for i in np.argsort(-want)[:3]]
        pub = PUBLISHED.get(name)
        pub_diff = max(abs(got[t] - v) for t, v in pub.items()) if pub else float("nan")
        # diagnosis: where would mtag's crop be if it centred on libsndfile's header frame count?
        info = sf.info(song)
        header12 = int(round(info.frames * ref.SR / info.samplerate))
        delta = max(header12 - ref.N_SAMPLE_FIT, 0) // 2 - max(len(y12) - ref.N_SAMPLE_FIT, 0) // 2
        near = list(range(delta - 4, delta + 9)) if delta else []
        diag = {s: float(np.abs(got_v - torch_scores(ref, reference_model, y12, s)).max()) for s in [-1, 0, 1] + near}
        diag_best = min(near, key=lambda s: diag[s]) if near else None
        # what-if: mtag tag on the decoded native-rate samples as a float WAV (its header count is exact)
        y_nat, sr_nat = decode_native(song)
        wav = os.path.join(work, name + "_decoded.wav")
        sf.write(wav, y_nat, sr_nat, subtype="FLOAT")
        got_wav, _ = mtag_scores(args, model, wav, env)
        os.remove(wav)
        wav_diff = float(np.abs(np.array([got_wav[t] for t in ref.TAGS]) - want).max())
        # 2. melgram alignment
        npy = os.path.join(args.data, name + ".npy")
        mel = None
        if os.path.isfile(npy):
            target = np.load(npy)[0, 0].astype(np.float64)
            best, res = search(args, lambda s: ref.centre_crop(y12, s).astype(np.float32), ref.SR, args.coarse_step,
                               args.search, target, work, config_path,
                               lambda s: ref.melgram_librosa_style(ref.centre_crop(y12, s).astype(np.float32)
                                                                   .astype(np.float64)))
            length_nat = int(round(ref.N_SAMPLE_FIT * sr_nat / ref.SR))
            start_nat = (len(y_nat) - length_nat) // 2
            k = sr_nat / ref.SR
            best_n, res_n = search(args, lambda s: cut(y_nat, length_nat, start_nat + s), sr_nat,
                                   max(1, int(round(args.coarse_step * k))), int(round(args.search * k)), target,
                                   work, config_path)
            mel = {"best": best, "mad": res[best][0], "mad0": res[0][0], "vs_py": res[best][1],
                   "edge": abs(best) > args.search - args.coarse_step,
                   "best_n": best_n, "best_n12": best_n / k, "mad_n": res_n[best_n][0], "mad_n0": res_n[0][0],
                   "native_rate": sr_nat, "header": info.frames, "decoded": len(y_nat)}
        ok_scores = float(diffs.max()) <= args.tol
        ok_mel = mel is None or mel["mad"] <= args.mad_target
        failed |= not (ok_scores and ok_mel)
        rows.append(dict(name=name, raw=raw, diffs=diffs, worst=worst, top_m=top_m, top_r=top_r, pub_diff=pub_diff,
                         delta=delta, diag=diag, diag_best=diag_best, wav_diff=wav_diff, mel=mel, ok_scores=ok_scores, ok_mel=ok_mel, header12=header12,
                         n12=len(y12), info=info))

    print()
    print("1. scores: mtag tag vs the torch pipeline (unaligned)")
    print(f"{'song':22s} {'max|dscore|':>11s} {'worst tag':>13s} {'top-3 mtag':>32s} {'top-3 torch':>32s} "
          f"{'vs published':>12s}  result")
    for r in rows:
        print(f"{r['name']:22s} {r['diffs'].max():>11.4f} {ref.TAGS[r['worst']]:>13s} {', '.join(r['top_m']):>32s} "
              f"{', '.join(r['top_r']):>32s} {r['pub_diff']:>12.4f}  {'ok' if r['ok_scores'] else 'FAIL'}")
    print()
    print("   diagnosis: max |mtag - torch| with the torch crop moved by SHIFT 12 kHz samples (SHIFT: diff)")
    for r in rows:
        cells = ", ".join(f"{s:+d}: {r['diag'][s]:.2g}" for s in (-1, 0, 1))
        if r["diag_best"] is not None:
            b = r["diag_best"]
            cells += (f"; near the header-centred start ({r['delta']:+d} .. {r['delta'] + 8:+d}): best {b:+d}: "
                      f"{r['diag'][b]:.2g}, at {r['delta']:+d}: {r['diag'][r['delta']]:.2g}")
        print(f"   {r['name']:22s} {cells}")
        print(f"   {'':22s} decoded {r['n12']} samples at 12 kHz; libsndfile header: {r['info'].frames} frames at "
              f"{r['info'].samplerate} Hz = {r['header12']} at 12 kHz; a crop centred on the header count starts "
              f"{r['delta']:+d} samples from the decoded centre")
        print(f"   {'':22s} mtag tag on the decoded samples as a float WAV (exact header count): max |dscore| "
              f"{r['wav_diff']:.4f}")
    print()
    print("2. melgram of the centre crop by mtag extract vs the upstream .npy (MAD, dB)")
    print(f"{'song':22s} {'torchaudio 12k: best shift':>26s} {'MAD':>8s} {'MAD@0':>8s} {'mtag-vs-py':>10s} | "
          f"{'mtag resampler: best shift':>26s} {'MAD':>8s} {'MAD@0':>8s}  result")
    for r in rows:
        m = r["mel"]
        if m is None:
            print(f"{r['name']:22s} (no upstream .npy)")
            continue
        nat = f"{m['best_n']:+d} @{m['native_rate'] // 1000}k = {m['best_n12']:+.1f}"
        print(f"{r['name']:22s} {m['best']:>+26d} {m['mad']:>8.4f} {m['mad0']:>8.4f} {m['vs_py']:>10.2e} | "
              f"{nat:>26s} {m['mad_n']:>8.4f} {m['mad_n0']:>8.4f}  {'ok' if r['ok_mel'] else 'FAIL'}"
              f"{'  (best shift at the search edge: widen --search)' if m['edge'] else ''}")
    print()
    print(f"targets: max |score diff| <= {args.tol} on every tag (unaligned: libsndfile both sides; mtag libsamplerate "
          f"'{args.resample_quality}' + its crop rule, torch torchaudio + (n - 349440) // 2); melgram MAD <= "
          f"{args.mad_target} dB at the best 'torchaudio 12k' shift (samples added to the crop start "
          f"(n - 349440) // 2). 'vs published': max |mtag - upstream README| over its top 10 (3 decimals; upstream "
          f"decoded with another decoder, +144 samples later). Files in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
