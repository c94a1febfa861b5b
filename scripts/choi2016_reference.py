#!/usr/bin/python3
"""PyTorch reference implementations (test oracles) of Choi et al.'s Keras 1 music taggers.

Models (weights read with h5py from the published Keras 1 HDF5 files, `_tensorflow` variants):
  choi2016_crnn     MusicTaggerCRNN  (music_tagger_crnn_weights_tensorflow.h5)
  choi2016_cnn      MusicTaggerCNN   (music_tagger_cnn_weights_tensorflow.h5)
  choi2017_compact  compact convnet feature extractor, kapre front end from the stored
                    DFT kernels + mel matrix (compact_cnn_weights_tensorflow.hdf5)

Usage (Debian's /usr/bin/python3 with python3-torch, -torchaudio, -h5py, -numpy, -soundfile):
  choi2016_reference.py --arch choi2016_crnn --melgram song.npy        # 50 scores (JSON)
  choi2016_reference.py --arch choi2016_cnn  --audio song.mp3          # PyTorch pipeline oracle
  choi2016_reference.py --compact clip_12k.npy                         # 160-dim feature (JSON)
  choi2016_reference.py --compact song.mp3                             # decode+resample, first 29 s
  choi2016_reference.py --align song.mp3 --melgram song.npy            # MP3 alignment study
  choi2016_reference.py --dump-h5 weights.h5                           # layer/dataset listing
  add --layer-dump DIR to write intermediate activations as .npy files.

Keras 1 conventions implemented here (see choi2016_facts.md for the evidence):
  * conv kernels (out, in, kh, kw), cross-correlation (the `_tensorflow` files) -> F.conv2d as is;
    'same' padding for 3x3 stride 1 = 1 on every side; max-pool 'valid' (floor), stride = pool.
  * BN mode 0, CRNN (saved by Keras >= 1.1, Theano): (x - running_mean) / sqrt(running_std + eps)
    * gamma + beta, where `running_std` holds the VARIANCE (+eps); eps = 1e-3 (Keras 1.1/1.2 default).
  * BN mode 0, CNN (saved by Keras 1.0.6; upstream README: "use keras == 1.0.6 for MusicTaggerCNN"):
    (x - running_mean) / (running_std + eps) * gamma + beta, `running_std` a true STD, eps = 1e-6.
    With the Keras >= 1.1 formula instead, every CNN output collapses to ~1e-250.
  * BN mode 2 (compact): statistics of the batch itself (biased variance over N,H,W per channel),
    (x - mean) / sqrt(var + eps) * gamma + beta, eps 1e-3; stored running stats (0/1) unused.
  * ELU alpha 1.0. Dense: y = x @ W + b (W stored (in, out)).
  * GRU (Keras 1): z = hs(x Wz + bz + h Uz), r = hs(x Wr + br + h Ur),
    hh = tanh(x Wh + bh + (r*h) Uh), h = z*h_prev + (1-z)*hh, hs(x) = clip(0.2x+0.5, 0, 1), h0 = 0.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

DATA_DIR = '/work/shared/pretrained/choi2016'
WEIGHTS = {
    'choi2016_crnn': 'music_tagger_crnn_weights_tensorflow.h5',
    'choi2016_cnn': 'music_tagger_cnn_weights_tensorflow.h5',
    'choi2017_compact': 'compact_cnn_weights_tensorflow.hdf5',
}
TAGS = ['rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s',
        'alternative rock', 'jazz', 'beautiful', 'metal', 'chillout', 'male vocalists',
        'classic rock', 'soul', 'indie rock', 'Mellow', 'electronica', '80s', 'folk', '90s',
        'chill', 'instrumental', 'punk', 'oldies', 'blues', 'hard rock', 'ambient', 'acoustic',
        'experimental', 'female vocalist', 'guitar', 'Hip-Hop', '70s', 'party', 'country',
        'easy listening', 'sexy', 'catchy', 'funk', 'electro', 'heavy metal', 'Progressive rock',
        '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy']

SR = 12000
N_FFT = 512
HOP = 256
N_MELS = 96
DURA = 29.12
N_SAMPLE_FIT = int(DURA * SR)        # 349440 -> 1 + 349440 // 256 = 1366 centred frames
N_FRAMES = 1366
COMPACT_LEN = SR * 29                # 348000 samples, 'same' conv -> ceil(348000/256) = 1360 frames
KERAS_BN_EPS = 1e-3


# --------------------------------------------------------------------------------------------
# HDF5 reading
# --------------------------------------------------------------------------------------------
def _s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_keras1_h5(path):
    """Return [(layer_name, [(dataset_name, np.ndarray), ...]), ...] in file order
    (root attr `layer_names`, per-layer attr `weight_names`)."""
    out = []
    with h5py.File(path, 'r') as h:
        for lname in [_s(n) for n in h.attrs['layer_names']]:
            g = h[lname]
            wnames = [_s(n) for n in g.attrs['weight_names']]
            out.append((lname, [(w, np.array(g[w])) for w in wnames]))
    return out


def weights_dict(path):
    """Flat dict: short key -> array. Key = dataset name with the layer prefix, ':0' and the
    Keras '_1' instance suffix removed (e.g. 'conv1_W', 'gru1_U_h', 'bn_0_freq_running_std',
    'batchnormalization_3_gamma', 'Variable_2')."""
    d = {}
    for lname, ws in read_keras1_h5(path):
        for wname, arr in ws:
            k = wname.split('/')[-1]
            if k.endswith(':0'):
                k = k[:-2]
            if k.endswith('_1') and not k.startswith('Variable'):   # CRNN file: 'conv1_W_1:0'
                k = k[:-2]
            if k in d:
                raise RuntimeError('duplicate key %s' % k)
            d[k] = arr
    return d


def dump_h5(path, file=sys.stdout):
    with h5py.File(path, 'r') as h:
        print('file %s  root attrs: %s' % (os.path.basename(path), sorted(h.attrs.keys())), file=file)
        for lname in [_s(n) for n in h.attrs['layer_names']]:
            g = h[lname]
            wnames = [_s(n) for n in g.attrs['weight_names']]
            if not wnames:
                print('  %-22s (no weights)' % lname, file=file)
                continue
            print('  %s' % lname, file=file)
            for w in wnames:
                ds = g[w]
                print('      %-44s %-18s %s' % (w, tuple(ds.shape), ds.dtype), file=file)


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------
def T(a, dtype):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


def bn_inference(x, gamma, beta, mean, var, axis, eps):
    """Keras 1 BN mode 0 at test time; `var` is the stored `running_std` (a variance)."""
    shape = [1] * x.dim()
    shape[axis] = -1
    r = lambda t: t.reshape(shape)
    return (x - r(mean)) / torch.sqrt(r(var) + eps) * r(gamma) + r(beta)


def bn_mode2(x, gamma, beta, eps):
    """Keras 1.2 BN mode 2, axis=1 (channels, 'th'): per-channel mean and biased variance of the
    current batch over (N, H, W), at training and test time alike."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma.reshape(1, -1, 1, 1) + beta.reshape(1, -1, 1, 1)


def bn_inference_keras10(x, gamma, beta, mean, std, axis, eps):
    """Keras 1.0.x BN mode 0 at test time: running_std is a standard deviation, added eps."""
    shape = [1] * x.dim()
    shape[axis] = -1
    r = lambda t: t.reshape(shape)
    return (x - r(mean)) / (r(std) + eps) * r(gamma) + r(beta)


def hard_sigmoid(x):
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def keras1_gru(x, w, prefix, return_sequences):
    """x: (B, T, D). Keras 1 GRU, tanh / hard_sigmoid, reset applied before U_h."""
    Wz, Uz, bz = w[prefix + '_W_z'], w[prefix + '_U_z'], w[prefix + '_b_z']
    Wr, Ur, br = w[prefix + '_W_r'], w[prefix + '_U_r'], w[prefix + '_b_r']
    Wh, Uh, bh = w[prefix + '_W_h'], w[prefix + '_U_h'], w[prefix + '_b_h']
    B, Tn, _ = x.shape
    h = x.new_zeros(B, Uz.shape[0])
    xz, xr, xh = x @ Wz + bz, x @ Wr + br, x @ Wh + bh
    seq = []
    for t in range(Tn):
        z = hard_sigmoid(xz[:, t] + h @ Uz)
        r = hard_sigmoid(xr[:, t] + h @ Ur)
        hh = torch.tanh(xh[:, t] + (r * h) @ Uh)
        h = z * h + (1.0 - z) * hh
        seq.append(h)
    return torch.stack(seq, dim=1) if return_sequences else h


class Dumper:
    def __init__(self, folder, prefix):
        self.folder, self.prefix, self.i = folder, prefix, 0
        if folder:
            os.makedirs(folder, exist_ok=True)

    def __call__(self, name, t):
        if self.folder:
            np.save(os.path.join(self.folder, '%s_%02d_%s.npy' % (self.prefix, self.i, name)),
                    t.detach().cpu().numpy())
            self.i += 1
        return t


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------
class Choi2016CRNN:
    POOLS = [(2, 2), (3, 3), (4, 4), (4, 4)]

    def __init__(self, path=None, dtype=torch.float64, eps=KERAS_BN_EPS):
        path = path or os.path.join(DATA_DIR, WEIGHTS['choi2016_crnn'])
        self.w = {k: T(v, dtype) for k, v in weights_dict(path).items()}
        self.dtype, self.eps = dtype, eps

    def __call__(self, melgram, dump=None):
        """melgram: (B, 1, 96, 1366) log-mel (upstream layout, 'th'). Returns (B, 50) sigmoid."""
        w, eps = self.w, self.eps
        dump = dump or Dumper(None, '')
        x = melgram.to(self.dtype)
        x = dump('zeropad', F.pad(x, (37, 37, 0, 0)))                     # time 1366 -> 1440
        x = dump('bn_0_freq', bn_inference(x, w['bn_0_freq_gamma'], w['bn_0_freq_beta'],
                                           w['bn_0_freq_running_mean'], w['bn_0_freq_running_std'],
                                           axis=3, eps=eps))
        for i, pool in enumerate(self.POOLS, start=1):
            x = dump('conv%d' % i, F.conv2d(x, w['conv%d_W' % i], w['conv%d_b' % i], padding=1))
            x = dump('bn%d' % i, bn_inference(x, w['bn%d_gamma' % i], w['bn%d_beta' % i],
                                              w['bn%d_running_mean' % i], w['bn%d_running_std' % i],
                                              axis=1, eps=eps))
            x = dump('elu%d' % i, F.elu(x, alpha=1.0))
            x = dump('pool%d' % i, F.max_pool2d(x, pool, stride=pool))
        # (B, 128, 1, 15) -> Permute((3,1,2)) -> (B, 15, 128, 1) -> Reshape((15, 128))
        x = x.permute(0, 3, 1, 2).reshape(x.shape[0], 15, 128)
        x = dump('gru1', keras1_gru(x, w, 'gru1', True))
        x = dump('gru2', keras1_gru(x, w, 'gru2', False))
        return dump('output', torch.sigmoid(x @ w['output_W'] + w['output_b']))


class Choi2016CNN:
    POOLS = [(2, 4), (2, 4), (2, 4), (3, 5), (4, 4)]

    def __init__(self, path=None, dtype=torch.float64, eps=None, bn='keras10'):
        """bn='keras10' (default, Keras 1.0.6 semantics, eps 1e-6) or 'keras11' (variance, 1e-3)."""
        path = path or os.path.join(DATA_DIR, WEIGHTS['choi2016_cnn'])
        self.w = {k: T(v, dtype) for k, v in weights_dict(path).items()}
        assert bn in ('keras10', 'keras11')
        self.bn = bn_inference_keras10 if bn == 'keras10' else bn_inference
        self.dtype = dtype
        self.eps = eps if eps is not None else (1e-6 if bn == 'keras10' else KERAS_BN_EPS)

    def __call__(self, melgram, dump=None):
        w, eps, bn_inference = self.w, self.eps, self.bn
        dump = dump or Dumper(None, '')
        x = melgram.to(self.dtype)
        x = dump('bn_0_freq', bn_inference(x, w['bn_0_freq_gamma'], w['bn_0_freq_beta'],
                                           w['bn_0_freq_running_mean'], w['bn_0_freq_running_std'],
                                           axis=3, eps=eps))
        for i, pool in enumerate(self.POOLS, start=1):
            x = dump('conv%d' % i, F.conv2d(x, w['conv%d_W' % i], w['conv%d_b' % i], padding=1))
            x = dump('bn%d' % i, bn_inference(x, w['bn%d_gamma' % i], w['bn%d_beta' % i],
                                              w['bn%d_running_mean' % i], w['bn%d_running_std' % i],
                                              axis=1, eps=eps))
            x = dump('elu%d' % i, F.elu(x, alpha=1.0))
            x = dump('pool%d' % i, F.max_pool2d(x, pool, stride=pool))
        x = x.reshape(x.shape[0], -1)                                    # (B, 256, 1, 1) -> (B, 256)
        return dump('output', torch.sigmoid(x @ w['output_W'] + w['output_b']))


class Choi2017Compact:
    """kapre Melspectrogram (n_dft 512, hop 256, power 2, 96 mels 0-6000 Hz, decibel) + 5 x
    [conv 3x3 same 32 -> BN mode 2 -> ELU -> max-pool]. Feature = per-block global average of the
    pooled output, concatenated (5 x 32 = 160), as in transfer_learning_music."""
    POOLS = [(2, 4), (3, 4), (2, 5), (2, 4), (4, 4)]

    def __init__(self, path=None, dtype=torch.float64, eps=KERAS_BN_EPS, backend='tensorflow'):
        path = path or os.path.join(DATA_DIR, WEIGHTS['choi2017_compact'])
        self.w = {k: T(v, dtype) for k, v in weights_dict(path).items()}
        self.dtype, self.eps, self.backend = dtype, eps, backend
        assert backend in ('tensorflow', 'theano')

    def melgram(self, src, dump=None):
        """src: (B, L) float at 12 kHz. Returns (B, 1, 96, ceil(L/256)) decibel melgram."""
        dump = dump or Dumper(None, '')
        x = src.to(self.dtype)
        L = x.shape[-1]
        n_frame = (L + HOP - 1) // HOP                                  # Keras 'same', stride 256
        re_k = self.w['Variable'][:, 0, 0, :].t()                      # (257, 512)
        im_k = self.w['Variable_1'][:, 0, 0, :].t()
        if self.backend == 'tensorflow':
            # TF SAME: pad_total = max((n_frame-1)*hop + n_dft - L, 0), before = total // 2
            total = max((n_frame - 1) * HOP + N_FFT - L, 0)
            before = total // 2
            after = total - before
        else:
            # Theano border_mode 'half' (n_dft//2 each side) then crop; theano convolves (flips)
            before = after = N_FFT // 2
            re_k, im_k = re_k.flip(1), im_k.flip(1)
        xp = F.pad(x[:, None, :], (before, after))
        re = F.conv1d(xp, re_k[:, None, :], stride=HOP)[..., :n_frame]
        im = F.conv1d(xp, im_k[:, None, :], stride=HOP)[..., :n_frame]
        power = re ** 2 + im ** 2                                       # (B, 257, T)
        mel = torch.einsum('bft,fm->bmt', power, self.w['Variable_2'])  # (B, 96, T), power melgram
        dump('melgram_power', mel)
        # kapre amplitude_to_decibel: 10 log10(max(x, 1e-10)), minus the per-sample max, floor -80
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        db = db - db.amax(dim=(1, 2), keepdim=True)
        db = torch.clamp(db, min=-80.0)
        return dump('melgram_db', db[:, None])

    def __call__(self, src, dump=None):
        w, eps = self.w, self.eps
        dump = dump or Dumper(None, '')
        x = self.melgram(src, dump)
        feats = []
        for i, pool in enumerate(self.POOLS, start=1):
            x = dump('conv%d' % i, F.conv2d(x, w['convolution2d_%d_W' % i],
                                            w['convolution2d_%d_b' % i], padding=1))
            x = dump('bn%d' % i, bn_mode2(x, w['batchnormalization_%d_gamma' % i],
                                          w['batchnormalization_%d_beta' % i], eps))
            x = dump('elu%d' % i, F.elu(x, alpha=1.0))
            x = dump('pool%d' % i, F.max_pool2d(x, pool, stride=pool))
            feats.append(x.mean(dim=(2, 3)))
        return dump('feature160', torch.cat(feats, dim=1))


def build(arch, dtype=torch.float64, eps=None, **kw):
    if eps is None and arch != 'choi2016_cnn':
        eps = KERAS_BN_EPS
    return {'choi2016_crnn': Choi2016CRNN, 'choi2016_cnn': Choi2016CNN,
            'choi2017_compact': Choi2017Compact}[arch](dtype=dtype, eps=eps, **kw)


# --------------------------------------------------------------------------------------------
# audio front end ("PyTorch pipeline"): soundfile decode, torchaudio resample, own STFT + mel
# --------------------------------------------------------------------------------------------
def hz_to_mel_slaney(f):
    f = np.atleast_1d(np.asarray(f, dtype=np.float64))
    m = f / (200.0 / 3)
    big = f >= 1000.0
    m[big] = 15.0 + np.log(f[big] / 1000.0) / (np.log(6.4) / 27.0)
    return m


def mel_to_hz_slaney(m):
    m = np.atleast_1d(np.asarray(m, dtype=np.float64))
    f = m * (200.0 / 3)
    big = m >= 15.0
    f[big] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m[big] - 15.0))
    return f


def mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=None):
    """librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm=1 'slaney'): (n_mels, 1+n_fft//2)."""
    fmax = sr / 2.0 if fmax is None else fmax
    fftfreqs = np.linspace(0, sr / 2.0, 1 + n_fft // 2)
    mel_f = mel_to_hz_slaney(np.linspace(hz_to_mel_slaney(fmin)[0], hz_to_mel_slaney(fmax)[0], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    W = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        W[i] = np.maximum(0, np.minimum(lower, upper))
    W *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return W


def periodic_hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def melgram_librosa_style(src, pad_mode='reflect'):
    """Upstream compute_melgram from an already 12 kHz mono signal of N_SAMPLE_FIT samples:
    librosa (0.4/0.5) stft center=True (reflect pad n_fft//2), periodic Hann, |X|^2, slaney mel,
    then logamplitude(S**2, ref_power=1.0) = 10 log10(max(1e-10, S^2)), floored at max - 80 dB.
    Returns (96, 1366) float64."""
    y = np.asarray(src, dtype=np.float64)
    y = np.pad(y, N_FFT // 2, mode=pad_mode)
    n_frames = 1 + (len(y) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = y[idx] * periodic_hann(N_FFT)[None, :]
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2            # (T, 257) power
    S = mel_filterbank() @ spec.T                               # (96, T) mel power
    logS = 10.0 * np.log10(np.maximum(1e-10, S ** 2))
    return np.maximum(logS, logS.max() - 80.0)


RESAMPLERS = {
    # torchaudio 0.13 defaults (Hann-windowed sinc, 6 zero crossings, rolloff 0.99)
    'torchaudio_default': dict(),
    # resampy 'kaiser_best' (librosa 0.5/0.6 default res_type) as parametrised in torchaudio's docs;
    # this is what reproduces the upstream .npy melgrams (see choi2016_facts.md)
    'kaiser_best': dict(lowpass_filter_width=64, rolloff=0.9475937167399596,
                        resampling_method='kaiser_window', beta=14.769656459379492),
}


def decode_audio(path, sr=SR, verbose=False, resampler='torchaudio_default'):
    """libsndfile decode (float32), mono by channel mean, torchaudio.functional.resample."""
    import soundfile as sf
    import torchaudio.functional as AF
    data, sr0 = sf.read(path, dtype='float32', always_2d=True)
    mono = data.mean(axis=1)
    kw = RESAMPLERS[resampler]
    if sr0 != sr:
        y = AF.resample(torch.from_numpy(mono.astype(np.float32))[None], sr0, sr, **kw)[0].numpy()
    else:
        y = mono
    if verbose:
        desc = ('defaults: lowpass_filter_width=6, rolloff=0.99, '
                "resampling_method='sinc_interpolation' (Hann-windowed sinc)") if not kw else str(kw)
        print('decoded %s with libsndfile %s: %d samples @ %d Hz, %d ch; torchaudio.functional.resample'
              '(orig_freq=%d, new_freq=%d) %s -> %d samples'
              % (os.path.basename(path), sf.__libsndfile_version__, data.shape[0], sr0, data.shape[1],
                 sr0, sr, desc, len(y)), file=sys.stderr)
    return y.astype(np.float64)


def centre_crop(y, shift=0):
    """Upstream: zero-pad at the end when short; else src[(n-fit)//2 : (n+fit)//2] (+shift)."""
    n = len(y)
    if n < N_SAMPLE_FIT:
        return np.concatenate([y, np.zeros(N_SAMPLE_FIT - n)])
    start = (n - N_SAMPLE_FIT) // 2 + shift
    if start < 0 or start + N_SAMPLE_FIT > n:
        out = np.zeros(N_SAMPLE_FIT)
        lo, hi = max(start, 0), min(start + N_SAMPLE_FIT, n)
        out[lo - start:hi - start] = y[lo:hi]
        return out
    return y[start:start + N_SAMPLE_FIT]


def melgram_from_audio(path, shift=0, verbose=False, resampler='torchaudio_default'):
    y = decode_audio(path, verbose=verbose, resampler=resampler)
    return melgram_librosa_style(centre_crop(y, shift))[None, None]


def compact_input_from_audio(path, verbose=False, resampler='torchaudio_default'):
    """transfer_learning_music easy_feature_extraction: librosa.load(sr=12000, duration=29.),
    i.e. the FIRST 29 s (not centred), zero-padded at the end to 348000 samples."""
    y = decode_audio(path, verbose=verbose, resampler=resampler)[:COMPACT_LEN]
    if len(y) < COMPACT_LEN:
        y = np.concatenate([y, np.zeros(COMPACT_LEN - len(y))])
    return y


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def scores_json(scores):
    s = [float(v) for v in scores]
    order = sorted(range(50), key=lambda i: -s[i])
    return {'scores': {TAGS[i]: round(s[i], 8) for i in range(50)},
            'scores_in_tag_order': [round(v, 8) for v in s],
            'top10': [[TAGS[i], round(s[i], 6)] for i in order[:10]]}


def align(mp3, npy, lo=-400, hi=400, resampler='torchaudio_default'):
    ref = np.load(npy)[0, 0]
    y = decode_audio(mp3, verbose=True, resampler=resampler)
    res = []
    for sh in range(lo, hi + 1):
        m = melgram_librosa_style(centre_crop(y, sh))
        res.append((float(np.mean(np.abs(m - ref))), sh))
    d0 = [d for d, s in res if s == 0][0]
    best = min(res)
    return {'n_samples_12k': len(y), 'mad_db_unaligned': d0, 'best_shift': best[1],
            'mad_db_aligned': best[0],
            'curve_around_best': [(s, round(d, 4)) for d, s in res if abs(s - best[1]) <= 3]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', choices=['choi2016_crnn', 'choi2016_cnn'], default='choi2016_crnn')
    ap.add_argument('--melgram', help='upstream melgram .npy, shape (1,1,96,1366)')
    ap.add_argument('--audio', help='audio file (MP3, WAV...) through the PyTorch pipeline')
    ap.add_argument('--shift', type=int, default=0,
                    help='crop-start shift in 12 kHz samples (--audio); +144 matches the upstream npy')
    ap.add_argument('--resampler', choices=sorted(RESAMPLERS), default='torchaudio_default',
                    help='torchaudio_default, or kaiser_best (= resampy, what upstream librosa used)')
    ap.add_argument('--compact', help='compact convnet input: .npy of 12 kHz samples or an audio file')
    ap.add_argument('--compact-backend', choices=['tensorflow', 'theano'], default='tensorflow',
                    help="kapre STFT 'same' padding/orientation of the backend to emulate")
    ap.add_argument('--align', help='MP3 to align against --melgram npy')
    ap.add_argument('--dump-h5', help='list layers/datasets of a Keras 1 HDF5 file')
    ap.add_argument('--layer-dump', help='folder for intermediate activations (.npy)')
    ap.add_argument('--eps', type=float, default=None,
                    help='BN epsilon (default 1e-3; CNN with keras10 BN: 1e-6)')
    ap.add_argument('--cnn-bn', choices=['keras10', 'keras11'], default='keras10',
                    help='BN semantics for choi2016_cnn (see module docstring)')
    ap.add_argument('--float32', action='store_true', help='compute in float32 (default float64)')
    a = ap.parse_args()
    dtype = torch.float32 if a.float32 else torch.float64
    dump = Dumper(a.layer_dump, a.arch if not a.compact else 'choi2017_compact')

    if a.dump_h5:
        dump_h5(a.dump_h5)
        return
    if a.align:
        print(json.dumps(align(a.align, a.melgram, resampler=a.resampler), indent=1))
        return
    if a.compact:
        m = Choi2017Compact(dtype=dtype, eps=a.eps if a.eps is not None else KERAS_BN_EPS,
                            backend=a.compact_backend)
        if a.compact.endswith('.npy'):
            src = np.load(a.compact).astype(np.float64).reshape(-1)
        else:
            src = compact_input_from_audio(a.compact, verbose=True, resampler=a.resampler)
        dump('input', torch.from_numpy(src))
        with torch.no_grad():
            f = m(torch.from_numpy(src)[None], dump)[0].numpy()
        print(json.dumps({'n_samples': len(src), 'feature160': [round(float(v), 8) for v in f],
                          'per_block_mean': [round(float(f[i*32:(i+1)*32].mean()), 6) for i in range(5)],
                          'mean': float(f.mean()), 'std': float(f.std()),
                          'min': float(f.min()), 'max': float(f.max())}, indent=1))
        return
    if a.audio:
        mg = melgram_from_audio(a.audio, shift=a.shift, verbose=True, resampler=a.resampler)
    elif a.melgram:
        mg = np.load(a.melgram)
    else:
        ap.error('give --melgram, --audio, --compact, --align or --dump-h5')
    assert mg.shape == (1, 1, 96, 1366), mg.shape
    dump('input', torch.from_numpy(mg))
    kw = {'bn': a.cnn_bn} if a.arch == 'choi2016_cnn' else {}
    model = build(a.arch, dtype=dtype, eps=a.eps, **kw)
    with torch.no_grad():
        s = model(torch.from_numpy(mg), dump)[0].numpy()
    print(json.dumps(scores_json(s), indent=1))


if __name__ == '__main__':
    main()
