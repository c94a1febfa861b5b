"""Argument conversion shared by the modules of the package (librosa's None defaults -> mtag's)."""
import json
import os

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
