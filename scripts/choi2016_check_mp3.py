#!/usr/bin/python3
"""End-to-end check of the imported MusicTaggerCRNN (choi2016_crnn) on real music: mtag vs a PyTorch pipeline.

For each MP3 in --data (default /work/shared/pretrained/choi2016):

1. Scores. `mtag tag --model DIR --all-scores --format json SONG.mp3` (DIR from `mtag model import --from
   keras-h5 --arch choi2016_crnn music_tagger_crnn_weights_tensorflow.h5`, or with --via-name the name
   choi2016_crnn through MTAG_MODEL_MIRROR=--data, MTAG_HOME=a temp dir) against the PyTorch pipeline of
   scripts/choi2016_reference.py: the same MP3 decoded by libsndfile (python3-soundfile), mixed to mono,
   resampled to 12 kHz by torchaudio (defaults), centre crop of 29.12 s, librosa-style melgram, the float64
   PyTorch re-implementation of the Keras model. Both sides decode with libsndfile; mtag resamples with
   libsamplerate and crops by its own rule, so nothing is aligned: target max |score diff| <= --tol (0.03)
   on every tag.

2. Melgram. mtag's melgram of the centre crop against the upstream .npy (SONG.npy, the model input the
   upstream code produced from its own decoder): the Python-decoded 12 kHz signal is cut at crop start
   (n - 349440) // 2 + shift, written as a 12 kHz float WAV, and `mtag extract --config features.json`
   computes its melgram with the model directory's own front end (model.json "features": the melgram
   `mtag tag` feeds the model). The shift is searched coarse-to-fine (every --coarse-step samples over
   +-(--search) then every sample around the best) by mean |dB difference| (MAD) against the .npy;
   reported: the best shift (12 kHz samples) and its MAD, target <= --mad-target (0.2 dB). The same crops
   through the Python melgram give the front-end-only difference (mtag vs Python on identical samples).
   For information, mtag's own decode + resample is aligned too: `mtag extract --feature mel` (power, no
   log) of the whole MP3, cropped at every whole frame offset and logged as upstream; frame resolution
   only (256 samples), so its MAD is not held to the target.

Prints a table; exits 1 when a target is missed, 2 on a usage or tool error.

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
import subprocess
import sys
import tempfile

import numpy as np
import torch

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
H5 = "music_tagger_crnn_weights_tensorflow.h5"

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
               song], env)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if len(rows) != 1:
        raise SystemExit(f"mtag tag printed {len(rows)} results for {song}")
    return {t["tag"]: float(t["score"]) for t in rows[0]["tags"]}, rows[0]


def reference_scores(ref, model, melgram):
    with torch.no_grad():
        return model(torch.from_numpy(melgram))[0].numpy()


def extract(args, inputs, out_dir, config_path, extra=()):
    """mtag extract of `inputs` -> {input basename without extension: array (bins, frames)}."""
    run([args.mtag, "--threads", str(args.threads), "extract", *inputs, "--out", out_dir, "--config", config_path,
         *extra])
    got = {}
    for path in inputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        hits = glob.glob(os.path.join(out_dir, "**", stem + ".npy"), recursive=True)
        if len(hits) != 1:
            raise SystemExit(f"mtag extract: expected one output for {path} in {out_dir}, found {hits}")
        got[stem] = np.load(hits[0]).astype(np.float64)
    return got


def mtag_crop_mads(args, ref, y, target, shifts, work, config_path, tag):
    """MAD of mtag's melgram of the crop at each shift against `target`; also the Python melgram's MAD
    on the same crop (the front-end-only difference). Returns {shift: (mad_mtag, mad_mtag_vs_python)}."""
    import soundfile as sf
    wav_dir = os.path.join(work, f"{tag}_wav")
    out_dir = os.path.join(work, f"{tag}_npy")
    os.makedirs(wav_dir, exist_ok=True)
    paths = []
    for s in shifts:
        p = os.path.join(wav_dir, f"shift_{s:+05d}.wav".replace("+", "p").replace("-", "m"))
        sf.write(p, ref.centre_crop(y, s).astype(np.float32), ref.SR, subtype="FLOAT")
        paths.append(p)
    mels = extract(args, paths, out_dir, config_path)
    res = {}
    for s, p in zip(shifts, paths):
        m = mels[os.path.splitext(os.path.basename(p))[0]]
        if m.shape != target.shape:
            raise SystemExit(f"mtag extract gave {m.shape} for a {ref.N_SAMPLE_FIT}-sample crop, expected {target.shape}")
        py = ref.melgram_librosa_style(ref.centre_crop(y, s).astype(np.float32).astype(np.float64))
        res[s] = (float(np.mean(np.abs(m - target))), float(np.mean(np.abs(m - py))))
    for p in paths:
        os.remove(p)
    return res


def whole_file_alignment(args, ref, song, target, work, features):
    """mtag's own decode + resample: power mel of the whole file, cropped at whole-frame offsets and logged
    as upstream (10 log10(max(1e-10, S^2)), floored at max - 80 over the crop)."""
    cfg = dict(features)
    cfg["kind"] = "mel"
    cfg["log"] = "none"
    for k in ("ref", "amin", "top_db", "db_input", "log1p_c"):
        cfg.pop(k, None)
    cfg_path = os.path.join(work, "mel_power.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    stem = os.path.splitext(os.path.basename(song))[0]
    S = extract(args, [song], os.path.join(work, "whole_" + stem), cfg_path)[stem]
    n = target.shape[1]
    centre = (S.shape[1] - n) // 2
    best = None
    for off in range(-40, 41):
        a = centre + off
        if a < 0 or a + n > S.shape[1]:
            continue
        logS = 10.0 * np.log10(np.maximum(1e-10, S[:, a:a + n] ** 2))
        logS = np.maximum(logS, logS.max() - 80.0)
        mad = float(np.mean(np.abs(logS - target)))
        if best is None or mad < best[0]:
            best = (mad, off)
    return {"frames": S.shape[1], "best_frame_offset": best[1], "mad_db": best[0]}


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
    ap.add_argument("--coarse-step", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="mtag's --threads")
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
    card = card.get("metadata", card)  # the run card (features, tags, ...) sits under "metadata"
    features = card["features"]
    config_path = os.path.join(work, "features.json")
    with open(config_path, "w") as f:
        json.dump(features, f)
    tags = card["tags"]
    if tags != ref.TAGS:
        print(f"WARNING: the model's tags differ from the reference's tag order", file=sys.stderr)

    reference_model = ref.build("choi2016_crnn")
    print(f"model {model_dir} ({card.get('preset')}); reference {ref_path}")
    print(f"front end (model.json features): {json.dumps(features, sort_keys=True)}")
    rows, failed = [], False
    for song in songs:
        name = os.path.splitext(os.path.basename(song))[0]
        # 1. scores
        got, raw = mtag_scores(args, model, song, env)
        y = ref.decode_audio(song)
        mg = ref.melgram_librosa_style(ref.centre_crop(y))[None, None]
        want = reference_scores(ref, reference_model, mg)
        diffs = np.array([abs(got[t] - float(want[i])) for i, t in enumerate(ref.TAGS)])
        worst = int(diffs.argmax())
        top_m = sorted(got, key=lambda t: -got[t])[:3]
        top_r = [ref.TAGS[i] for i in np.argsort(-want)[:3]]
        pub = PUBLISHED.get(name)
        pub_diff = max(abs(got[t] - v) for t, v in pub.items()) if pub else float("nan")
        # 2. melgram alignment
        npy = os.path.join(args.data, name + ".npy")
        mel = None
        if os.path.isfile(npy):
            target = np.load(npy)[0, 0].astype(np.float64)
            coarse = list(range(-args.search, args.search + 1, args.coarse_step))
            res = mtag_crop_mads(args, ref, y, target, coarse, work, config_path, name + "_coarse")
            centre = min(res, key=lambda s: res[s][0])
            fine = [s for s in range(centre - args.coarse_step + 1, centre + args.coarse_step) if s not in res]
            res.update(mtag_crop_mads(args, ref, y, target, fine, work, config_path, name + "_fine"))
            if 0 not in res:
                res.update(mtag_crop_mads(args, ref, y, target, [0], work, config_path, name + "_zero"))
            best = min(res, key=lambda s: res[s][0])
            whole = whole_file_alignment(args, ref, song, target, work, features)
            mel = {"best_shift": best, "mad": res[best][0], "mad_unaligned": res[0][0],
                   "mad_vs_python": res[best][1], "edge": abs(best) >= args.search - args.coarse_step,
                   "whole": whole}
        ok_scores = float(diffs.max()) <= args.tol
        ok_mel = mel is None or mel["mad"] <= args.mad_target
        failed |= not (ok_scores and ok_mel)
        rows.append((name, raw, diffs, worst, top_m, top_r, pub_diff, mel, ok_scores, ok_mel))

    print()
    print(f"{'song':22s} {'chunks':>6s} {'max|dscore|':>11s} {'worst tag':>18s} {'top-3 mtag':>32s} {'top-3 torch':>32s} "
          f"{'vs published':>12s}  scores")
    for name, raw, diffs, worst, top_m, top_r, pub_diff, mel, ok_scores, ok_mel in rows:
        print(f"{name:22s} {raw.get('chunks', '?')!s:>6s} {diffs.max():>11.4f} {ref.TAGS[worst]:>18s} "
              f"{', '.join(top_m):>32s} {', '.join(top_r):>32s} {pub_diff:>12.4f}  {'ok' if ok_scores else 'FAIL'}")
    print()
    print(f"{'song':22s} {'best shift':>10s} {'MAD aligned':>11s} {'MAD shift 0':>11s} {'mtag-vs-py':>10s} "
          f"{'whole-file (mtag decode)':>28s}  melgram")
    for name, raw, diffs, worst, top_m, top_r, pub_diff, mel, ok_scores, ok_mel in rows:
        if mel is None:
            print(f"{name:22s} (no upstream .npy)")
            continue
        w = mel["whole"]
        whole = f"{w['best_frame_offset']:+d} fr = {w['best_frame_offset'] * 256:+d} smp, {w['mad_db']:.3f} dB"
        print(f"{name:22s} {mel['best_shift']:>+10d} {mel['mad']:>9.4f}dB {mel['mad_unaligned']:>9.4f}dB "
              f"{mel['mad_vs_python']:>8.4f}dB {whole:>28s}  {'ok' if ok_mel else 'FAIL'}"
              f"{'  (best shift at the search edge: widen --search)' if mel['edge'] else ''}")
    print()
    print(f"targets: max |score diff| <= {args.tol} on every tag (unaligned; libsndfile both sides, mtag: "
          f"libsamplerate + its crop, torch: torchaudio resample + centre crop); melgram MAD <= {args.mad_target} dB "
          f"at the best shift (12 kHz samples added to the crop start (n - 349440) // 2 of the Python-decoded signal; "
          f"melgram by mtag extract with the model's front end). 'vs published': max |mtag - upstream README| over its "
          f"top 10 (3 decimals; upstream used another decoder). 'whole-file': mtag's own decode + resample, "
          f"whole-frame offsets from the centre, information only. Files in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
