"""librosa.effects: pitch_shift and time_stretch (mtag's augmentation transforms)."""
from . import _mtag
from ._convert import opt_int
from ._convert import rate as _rate


def pitch_shift(y, *, sr, n_steps, bins_per_octave=12, res_type="soxr_hq", scale=False, n_fft=None,
                phase_locking="identity"):
    """Shift the pitch by ``n_steps`` steps of ``1/bins_per_octave`` octave, keeping the length.

    As ``librosa.effects.pitch_shift``: a phase-vocoder time stretch then resampling back (libsamplerate;
    ``res_type`` as in :func:`mtag.load`). ``phase_locking="identity"`` (mtag's default, Laroche & Dolson)
    or ``"none"`` (librosa's plain vocoder). ``n_fft`` defaults to 2048 at 22.05 kHz, scaled with ``sr``.
    """
    if scale:
        raise ValueError("scale=True is not supported (mtag's pitch shift keeps the signal's level)")
    return _mtag.pitch_shift(y, _rate(sr), float(n_steps), float(bins_per_octave), opt_int(n_fft, "n_fft"),
                             str(phase_locking), str(res_type))


def time_stretch(y, *, rate, sr=22050, n_fft=None, hop_length=None, phase_locking="identity"):
    """Stretch by ``rate`` (> 1 faster/shorter) with a phase vocoder, as ``librosa.effects.time_stretch``.

    The output has ``round(len(y) / rate)`` samples. ``sr`` only sets the default ``n_fft`` (2048 at 22.05 kHz).
    """
    return _mtag.time_stretch(y, float(rate), _rate(sr), opt_int(n_fft, "n_fft"), opt_int(hop_length, "hop_length"),
                              str(phase_locking))
