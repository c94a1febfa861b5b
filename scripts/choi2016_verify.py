#!/usr/bin/python3
"""Runs the checks behind choi2016_facts.md with choi2016_reference.py and prints JSON:
  1. CRNN on the upstream .npy melgrams vs the published top-10 (+-0.0005), eps/dtype sensitivity;
  2. CNN top-10 on the same melgrams; compact convnet feature stats (example clip, MP3s);
  3. MP3 -> soundfile -> torchaudio -> own melgram vs upstream .npy: best crop shift, MAD in dB,
     CRNN scores from the MP3 pipeline (unshifted and at the best shift).
Usage: /usr/bin/python3 scripts/choi2016_verify.py [--out results.json] [--skip-align]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import choi2016_reference as R  # noqa: E402

PUBLISHED = {
    'cute': [('jazz', 0.444), ('instrumental', 0.151), ('folk', 0.103), ('Hip-Hop', 0.103),
             ('ambient', 0.077), ('guitar', 0.068), ('rock', 0.058), ('acoustic', 0.054),
             ('experimental', 0.051), ('electronic', 0.042)],
    'actionable': [('jazz', 0.416), ('instrumental', 0.181), ('Hip-Hop', 0.085), ('folk', 0.085),
                   ('rock', 0.081), ('ambient', 0.068), ('guitar', 0.062), ('Progressive rock', 0.048),
                   ('experimental', 0.046), ('acoustic', 0.046)],
}
SONGS = ['cute', 'actionable']


def run(model, mg):
    with torch.no_grad():
        return model(torch.from_numpy(mg))[0].double().numpy()


def check_published(s, song):
    rows, ok = [], True
    for tag, pub in PUBLISHED[song]:
        v = float(s[R.TAGS.index(tag)])
        good = abs(v - pub) <= 0.0005 + 1e-12
        ok &= good
        rows.append([tag, pub, round(v, 6), round(v - pub, 6), good])
    order = list(np.argsort(-s)[:10])
    same_order = [R.TAGS[i] for i in order] == [t for t, _ in PUBLISHED[song]]
    return ok, same_order, rows


def top10(s):
    return [[R.TAGS[i], round(float(s[i]), 6)] for i in np.argsort(-s)[:10]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out')
    ap.add_argument('--skip-align', action='store_true')
    a = ap.parse_args()
    D = R.DATA_DIR
    res = {}
    mgs = {s: np.load(os.path.join(D, 'bensound-%s.npy' % s)) for s in SONGS}
    res['npy_stats'] = {s: {'shape': list(m.shape), 'dtype': str(m.dtype), 'min': float(m.min()),
                            'max': float(m.max()), 'range': float(m.max() - m.min())}
                        for s, m in mgs.items()}

    # --- step 2: CRNN reproduction, sensitivity -----------------------------------------------
    crnn = R.Choi2016CRNN()
    res['crnn_npy'] = {}
    base = {}
    for s in SONGS:
        sc = run(crnn, mgs[s])
        base[s] = sc
        ok, same_order, rows = check_published(sc, s)
        res['crnn_npy'][s] = {'all_within_0.0005': ok, 'same_top10_order': same_order,
                              'rows[tag,published,ours,diff,ok]': rows,
                              'all50': [round(float(v), 6) for v in sc]}
    sens = {}
    for name, kw in [('eps1e-6', dict(eps=1e-6)), ('eps1e-5', dict(eps=1e-5)),
                     ('float32_eps1e-3', dict(dtype=torch.float32))]:
        m = R.Choi2016CRNN(**kw)
        sens[name] = {s: float(np.abs(run(m, mgs[s]) - base[s]).max()) for s in SONGS}
    # what goes wrong without the Keras 1 specifics (to show they matter)
    class StdCRNN(R.Choi2016CRNN):   # running_std read as a std
        def __init__(self):
            super().__init__()
            for k in list(self.w):
                if k.endswith('running_std'):
                    self.w[k] = self.w[k] ** 2
    sens['running_std_as_std'] = {s: float(np.abs(run(StdCRNN(), mgs[s]) - base[s]).max()) for s in SONGS}
    orig_hs = R.hard_sigmoid
    R.hard_sigmoid = torch.sigmoid
    sens['logistic_gates'] = {s: float(np.abs(run(crnn, mgs[s]) - base[s]).max()) for s in SONGS}
    R.hard_sigmoid = orig_hs
    flipped = R.Choi2016CRNN()
    for k in list(flipped.w):
        if k.startswith('conv') and k.endswith('_W'):
            flipped.w[k] = flipped.w[k].flip(2, 3)
    sens['conv_kernels_flipped'] = {s: float(np.abs(run(flipped, mgs[s]) - base[s]).max()) for s in SONGS}
    res['crnn_sensitivity_maxabs_vs_reference'] = sens

    cnn = R.Choi2016CNN()
    res['cnn_npy'] = {}
    for s in SONGS:
        sc = run(cnn, mgs[s])
        res['cnn_npy'][s] = {'top10': top10(sc), 'all50': [round(float(v), 6) for v in sc]}
        res['cnn_npy'][s]['eps1e-3_maxabs'] = float(np.abs(run(R.Choi2016CNN(eps=1e-3), mgs[s]) - sc).max())
        res['cnn_npy'][s]['float32_maxabs'] = float(np.abs(run(R.Choi2016CNN(dtype=torch.float32), mgs[s]) - sc).max())
        k11 = run(R.Choi2016CNN(bn='keras11'), mgs[s])
        res['cnn_npy'][s]['keras11_bn_semantics_max_score'] = float(k11.max())
        fl = R.Choi2016CNN()
        for k in list(fl.w):
            if k.startswith('conv') and k.endswith('_W'):
                fl.w[k] = fl.w[k].flip(2, 3)
        res['cnn_npy'][s]['flipped_kernels_top10'] = top10(run(fl, mgs[s]))

    # --- compact convnet -------------------------------------------------------------------
    comp = R.Choi2017Compact()
    comp_th = R.Choi2017Compact(backend='theano')
    comp32 = R.Choi2017Compact(dtype=torch.float32)
    res['compact'] = {}
    inputs = {'example_clip': np.load(os.path.join(D, 'compact_cnn_example_clip_12k.npy')).astype(np.float64).reshape(-1)}
    for s in SONGS:
        inputs[s + '.mp3'] = R.compact_input_from_audio(os.path.join(D, 'bensound-%s.mp3' % s))
    for name, src in inputs.items():
        x = torch.from_numpy(src)[None]
        with torch.no_grad():
            f = comp(x)[0].numpy()
            f_th = comp_th(x)[0].numpy()
            f32 = comp32(x)[0].double().numpy()
            mel = comp.melgram(x)[0, 0].numpy()
        res['compact'][name] = {
            'n_samples': int(len(src)), 'input_minmax': [float(src.min()), float(src.max())],
            'melgram_shape': list(mel.shape), 'melgram_db_min_max_mean': [float(mel.min()), float(mel.max()), float(mel.mean())],
            'feature_mean': float(f.mean()), 'feature_std': float(f.std()),
            'feature_min': float(f.min()), 'feature_max': float(f.max()),
            'per_block_mean': [float(f[i * 32:(i + 1) * 32].mean()) for i in range(5)],
            'per_block_std': [float(f[i * 32:(i + 1) * 32].std()) for i in range(5)],
            'first8': [round(float(v), 6) for v in f[:8]],
            'feature160': [round(float(v), 6) for v in f],
            'theano_style_stft_maxabs_diff': float(np.abs(f_th - f).max()),
            'float32_maxabs_diff': float(np.abs(f32 - f).max()),
        }

    # --- step 3: MP3 pipeline vs npy ---------------------------------------------------------
    if not a.skip_align:
        res['mp3'] = {}
        for s in SONGS:
            mp3 = os.path.join(D, 'bensound-%s.mp3' % s)
            al = R.align(mp3, os.path.join(D, 'bensound-%s.npy' % s))
            mg0 = R.melgram_from_audio(mp3)
            mgb = R.melgram_from_audio(mp3, shift=al['best_shift'])
            s0, sb = run(crnn, mg0), run(crnn, mgb)
            al['crnn_top10_mp3_unshifted'] = top10(s0)
            al['crnn_top10_mp3_best_shift'] = top10(sb)
            al['crnn_maxabs_vs_npy_unshifted'] = float(np.abs(s0 - base[s]).max())
            al['crnn_maxabs_vs_npy_best_shift'] = float(np.abs(sb - base[s]).max())
            c0 = run(cnn, mg0)
            al['cnn_maxabs_vs_npy_unshifted'] = float(np.abs(c0 - run(cnn, mgs[s])).max())
            al['mp3_melgram_minmax'] = [float(mg0.min()), float(mg0.max())]
            # resampy-kaiser_best-like resampler (what upstream librosa used)
            kb = R.align(mp3, os.path.join(D, 'bensound-%s.npy' % s), lo=-400, hi=400, resampler='kaiser_best')
            mgk = R.melgram_from_audio(mp3, shift=kb['best_shift'], resampler='kaiser_best')
            sk = run(crnn, mgk)
            kb['crnn_maxabs_vs_npy_best_shift'] = float(np.abs(sk - base[s]).max())
            kb['cnn_maxabs_vs_npy_best_shift'] = float(np.abs(run(cnn, mgk) - run(cnn, mgs[s])).max())
            sk0 = run(crnn, R.melgram_from_audio(mp3, resampler='kaiser_best'))
            kb['crnn_maxabs_vs_npy_unshifted'] = float(np.abs(sk0 - base[s]).max())
            kb['crnn_top10_unshifted'] = top10(sk0)
            ref = mgs[s][0, 0]
            y = R.decode_audio(mp3, resampler='kaiser_best')
            for pm in ('reflect', 'constant'):
                m = R.melgram_librosa_style(R.centre_crop(y, kb['best_shift']), pad_mode=pm)
                kb['edge_frames_mad_db_pad_' + pm] = [float(np.abs(m - ref)[:, 0].mean()),
                                                      float(np.abs(m - ref)[:, -1].mean())]
            kb['per_band_mad_db_every8'] = [round(float(v), 4) for v in np.abs(
                R.melgram_librosa_style(R.centre_crop(y, kb['best_shift'])) - ref).mean(1)[::8]]
            al['kaiser_best'] = kb
            res['mp3'][s] = al
    txt = json.dumps(res, indent=1)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(txt)
    print(txt)


if __name__ == '__main__':
    main()
