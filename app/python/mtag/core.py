"""librosa's top-level functions: load, stft, istft, cqt, power_to_db, amplitude_to_db."""
import numpy as np

from . import _mtag
from ._convert import audio_path, opt_int, rate, real


def load(path, *, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32, res_type="soxr_hq",
         mp3_decode="full"):
    """Decode an audio file (as ``librosa.load``): returns ``(y, sr)``.

    Any format libsndfile reads (WAV, FLAC, OGG/Vorbis/Opus, MP3, AIFF). ``sr=None`` keeps the native rate;
    ``mono=True`` averages the channels, ``mono=False`` returns ``[channels, samples]``. ``offset`` and
    ``duration`` (seconds) seek without decoding what is skipped. ``res_type`` names the converter as librosa
    does: ``"soxr_vhq"``, ``"soxr_hq"`` (the default, librosa's and ``mtag extract``'s), ``"soxr_mq"``,
    ``"soxr_lq"``, ``"soxr_qq"`` (libsoxr), or ``"sinc_best"``, ``"sinc_medium"``, ``"sinc_fastest"``
    (libsamplerate; ``"best"``/``"medium"``/``"fastest"`` are aliases); ``"kaiser_best"``/``"kaiser_fast"``
    map to sinc_best/sinc_medium. ``mp3_decode`` (MP3 only, mtag's addition): ``"full"`` synthesises at the
    file's rate (libsndfile's samples, mixed to mono inside the decoder); ``"fast"`` synthesises at half or
    quarter rate when ``mono`` and ``sr`` is low enough (44.1 kHz -> 16 kHz: at 22.05 kHz), faster at an error
    the README states.
    ``path`` is a str, an os.PathLike or, as librosa takes, an open binary file object (``open(p, "rb")``,
    ``io.BytesIO``), which is copied to a temporary file from its current position and decoded from there.
    Raises FileNotFoundError for a missing file, RuntimeError for an unreadable one.
    """
    with audio_path(path) as p:
        y, native = _mtag.load(p, 0 if sr is None else rate(sr), bool(mono), float(offset),
                               -1.0 if duration is None else float(duration), str(res_type), str(mp3_decode))
    return (y if dtype in (None, np.float32) else y.astype(dtype)), native


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True, dtype=None,
         pad_mode="constant"):
    """Complex STFT ``[1 + n_fft/2, frames]`` (complex64), as ``librosa.stft``.

    Periodic window (``"hann"``, ``"hamming"``, ``"blackman"``, ``"ones"``/``"rectangular"``), unnormalised
    FFT; ``hop_length`` defaults to ``win_length // 4``; ``center=True`` pads ``n_fft // 2`` on both sides
    (``pad_mode`` ``"constant"`` as librosa >= 0.9, or ``"reflect"``).
    """
    return _mtag.stft(y, int(n_fft), opt_int(hop_length, "hop_length"), opt_int(win_length, "win_length"),
                      _window(window), bool(center), str(pad_mode))


def istft(stft_matrix, *, hop_length=None, win_length=None, n_fft=None, window="hann", center=True, dtype=None,
          length=None):
    """Inverse STFT (overlap-add, divided by the window's sum of squares), as ``librosa.istft``."""
    return _mtag.istft(stft_matrix, opt_int(n_fft, "n_fft"), opt_int(hop_length, "hop_length"),
                       opt_int(win_length, "win_length"), _window(window), bool(center),
                       -1 if length is None else int(length))


def cqt(y, *, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12, tuning=0.0, filter_scale=1,
        norm=1, sparsity=0.01, window="hann", scale=True, pad_mode="constant", res_type=None, dtype=None,
        magnitude=False):
    """Constant-Q transform ``[n_bins, frames]`` (complex64), as ``librosa.cqt``.

    ``fmin`` defaults to C1 (32.70 Hz). Octaves below the top one are computed on a signal decimated by a
    half-band filter (librosa uses soxr; ``res_type`` is accepted and ignored). ``magnitude=True`` (mtag's
    addition) returns ``|C|`` as float32 without making the complex array: exactly what
    ``mtag extract --feature cqt`` writes (``np.abs`` of the complex result agrees to about 1e-6).
    """
    return _mtag.cqt(y, float(sr), int(hop_length), None if fmin is None else float(fmin), int(n_bins),
                     int(bins_per_octave), float(tuning), float(filter_scale), None if norm is None else float(norm),
                     float(sparsity), _window(window), bool(scale), str(pad_mode), bool(magnitude))


def _reference(ref, S):
    if ref is np.max or ref is np.amax:
        return 1.0, True
    if callable(ref):
        return float(ref(S)), False
    return float(ref), False


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """``10 log10(max(amin, S)) - 10 log10(max(amin, ref))``, clipped at ``max - top_db`` (librosa's).

    ``ref`` is a number or a function of the array (``np.max`` gives 0 dB peaks); ``top_db=None`` disables
    the clipping. Returns a new float32 array of S's shape.
    """
    S = real(S)
    value, use_max = _reference(ref, S)
    return _mtag.power_to_db(S, value, use_max, float(amin), None if top_db is None else float(top_db))


def amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0):
    """``20 log10(max(amin, |S|)) - 20 log10(max(amin, ref))``, clipped at ``max - top_db`` (librosa's)."""
    S = real(S)
    value, use_max = _reference(ref, S)
    return _mtag.amplitude_to_db(S, value, use_max, float(amin), None if top_db is None else float(top_db))


def _window(window):
    if not isinstance(window, str):
        raise ValueError(f"window: got {window!r}; mtag takes a window name (hann, hamming, blackman, ones)")
    return "rectangular" if window in ("ones", "boxcar", "rect") else window
