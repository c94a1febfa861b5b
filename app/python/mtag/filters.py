"""librosa.filters: the mel filterbank."""
from . import _mtag


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney", dtype=None):
    """Mel filterbank ``[n_mels, 1 + n_fft/2]`` float32, as ``librosa.filters.mel``.

    Slaney's scale by default (``htk=True`` for HTK's), ``norm="slaney"`` (area normalisation) or ``None``.
    """
    return _mtag.filters_mel(float(sr), int(n_fft), int(n_mels), float(fmin), 0.0 if fmax is None else float(fmax),
                             bool(htk), "none" if norm is None else str(norm))
