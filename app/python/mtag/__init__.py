"""mtag from Python: librosa-shaped features, augmentation, trained taggers and a batch loader for PyTorch.

The work happens in mtag's C++ libraries (the ``_mtag`` extension); this package only documents the
functions and converts arguments. Conventions follow librosa: parameter names and defaults, ``[bins,
frames]`` spectrograms, float32 results (float64 or non-contiguous inputs are accepted and converted
once; a float32 C-contiguous input is used without a copy). The GIL is released while mtag computes, so a
Python thread pool runs several calls at once.

    import mtag
    y, sr = mtag.load("song.wav", sr=22050)
    S = mtag.feature.melspectrogram(y=y, sr=sr, n_mels=128)
    S_db = mtag.power_to_db(S, ref=np.max)

Errors are raised as ``ValueError`` (bad argument), ``FileNotFoundError`` (missing file) or
``RuntimeError`` (anything else mtag reports), with mtag's message.
"""
from . import _mtag
from .core import amplitude_to_db, cqt, istft, load, power_to_db, stft
from .models import Tagger, read_run
from . import augment, data, effects, feature, filters

__version__ = _mtag.__version__

__all__ = [
    "__version__", "load", "stft", "istft", "cqt", "power_to_db", "amplitude_to_db",
    "feature", "filters", "effects", "augment", "data", "Tagger", "read_run",
]
