"""librosa.feature's spectral features: melspectrogram, mfcc.

Both go through mtag's feature extractor, the code ``mtag extract`` runs, so a result equals the CLI's
``.npy`` for the same parameters (``--feature mel`` / ``--feature mfcc``).
"""
from . import _mtag
from ._convert import opt_int, rate
from .core import _window


def melspectrogram(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None, window="hann",
                   center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None, htk=False,
                   norm="slaney", dtype=None):
    """Mel spectrogram ``[n_mels, frames]`` float32, as ``librosa.feature.melspectrogram``.

    From a signal ``y`` (STFT, ``|X|**power``, Slaney mel filterbank with area normalisation by default), or
    from a spectrogram ``S`` ``[1 + n_fft/2, frames]`` (the filterbank applied to it).
    """
    return _mtag.melspectrogram(y, rate(sr), S, int(n_fft), int(hop_length), opt_int(win_length, "win_length"),
                                _window(window), bool(center), str(pad_mode), float(power), int(n_mels),
                                float(fmin), 0.0 if fmax is None else float(fmax), bool(htk),
                                "none" if norm is None else str(norm))


def mfcc(*, y=None, sr=22050, S=None, n_mfcc=20, dct_type=2, norm="ortho", lifter=0, n_fft=2048, hop_length=512,
         win_length=None, window="hann", center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
         fmax=None, htk=False, mel_norm="slaney"):
    """MFCCs ``[n_mfcc, frames]`` float32, as ``librosa.feature.mfcc``.

    From ``y``: ``power_to_db(melspectrogram(y, ...))`` (ref 1, amin 1e-10, top_db 80) then an orthonormal
    DCT-II; or from a log-power mel spectrogram ``S``. ``norm`` is the DCT's (only ``"ortho"`` with
    ``dct_type=2``); ``mel_norm`` is the filterbank's (librosa's melspectrogram ``norm``).
    """
    if norm is None:
        norm = "none"
    return _mtag.mfcc(y, rate(sr), S, int(n_mfcc), int(dct_type), str(norm), float(lifter), int(n_fft),
                      int(hop_length), opt_int(win_length, "win_length"), _window(window), bool(center),
                      str(pad_mode), float(power), int(n_mels), float(fmin), 0.0 if fmax is None else float(fmax),
                      bool(htk), "none" if mel_norm is None else str(mel_norm))
