"""Argument conversion shared by the modules of the package (librosa's None defaults -> mtag's)."""
import contextlib
import json
import os
import shutil
import tempfile

import numpy as np


def opt_int(value, name):
    """None -> 0 (mtag's "auto"); otherwise a positive int."""
    if value is None:
        return 0
    if int(value) != value or value <= 0:
        raise ValueError(f"{name}: got {value!r}, expected a positive integer or None")
    return int(value)


def rate(sr, name="sr"):
    """A sample rate as the int mtag takes (22050.0 is accepted)."""
    if sr is None or int(sr) != sr or sr <= 0:
        raise ValueError(f"{name}: got {sr!r}, expected a positive integer sample rate")
    return int(sr)


def json_text(config, name):
    """A dict, a JSON string or a path to a JSON file -> (JSON text, folder relative paths refer to)."""
    if isinstance(config, dict):
        return json.dumps(config), ""
    if isinstance(config, os.PathLike) or (isinstance(config, str) and not config.lstrip().startswith("{")):
        path = os.fspath(config)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{name}: no such file '{path}'")
        with open(path, encoding="utf-8") as f:
            return f.read(), os.path.dirname(os.path.abspath(path))
    if isinstance(config, str):
        return config, ""
    raise ValueError(f"{name}: expected a dict, a JSON string or a path to a JSON file, got {type(config).__name__}")


def real(S):
    """Magnitudes of a complex array (librosa's np.abs for the dB functions); real arrays pass through."""
    S = np.asarray(S)
    return np.abs(S) if np.iscomplexobj(S) else S


def is_file_like(obj):
    """An open file or buffer (``open(p, "rb")``, ``io.BytesIO``, a response body): anything with ``read``."""
    return hasattr(obj, "read") and not isinstance(obj, (str, bytes, os.PathLike, np.ndarray))


@contextlib.contextmanager
def audio_path(source, name="path"):
    """The path to decode for ``source``: a str or os.PathLike as it is, or for a file-like object (as
    ``librosa.load`` and soundfile accept) a temporary copy of what ``read()`` gives from its current position,
    removed on exit. mtag's decoders read a file more than once (header, then samples; seeks), as ``mtag tag -``
    copies standard input (dsp/spooled_input.hpp)."""
    if not is_file_like(source):
        yield os.fspath(source)
        return
    folder = tempfile.mkdtemp(prefix="mtag-stream-")
    try:
        copy = os.path.join(folder, "stream")
        with open(copy, "wb") as out:
            first = source.read(0)
            if not isinstance(first, (bytes, bytearray, memoryview)):
                raise ValueError(f"{name}: the file object gives {type(first).__name__}, not bytes: open it in binary "
                                 f"mode ('rb')")
            shutil.copyfileobj(source, out, 1 << 20)
        if os.path.getsize(copy) == 0:
            raise ValueError(f"{name}: the file object gave no bytes (empty, or already read to its end)")
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)
