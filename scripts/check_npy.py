#!/usr/bin/env python3
"""Checks `mtag extract` output with numpy: every .npy listed in OUT/features.json loads with np.load,
is float32 C-order 2-D [bins, frames] with the recorded frame count, and holds finite values.

usage: /usr/bin/python3 scripts/check_npy.py OUT            (an extract output folder)
       /usr/bin/python3 scripts/check_npy.py FILE.npy ...   (single files: dtype, order, shape only)
"""
import json
import pathlib
import sys

import numpy as np


def check_file(path, bins=None, frames=None):
    array = np.load(path, mmap_mode="r")
    problems = []
    if array.dtype != np.dtype("<f4"):
        problems.append(f"dtype {array.dtype}, expected float32")
    if not array.flags["C_CONTIGUOUS"]:
        problems.append("not C order")
    if array.ndim != 2:
        problems.append(f"shape {array.shape}, expected 2-D [bins, frames]")
    elif (bins is not None and array.shape[0] != bins) or (frames is not None and array.shape[1] != frames):
        problems.append(f"shape {array.shape}, features.json says ({bins}, {frames})")
    if not np.all(np.isfinite(array)):
        problems.append("non-finite values")
    print(f"{path}: shape {array.shape} {array.dtype} {'OK' if not problems else '; '.join(problems)}")
    return not problems


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    ok = True
    target = pathlib.Path(argv[1])
    if target.is_dir():
        doc = json.loads((target / "features.json").read_text())
        for entry in doc["outputs"]:
            ok &= check_file(target / entry["output"], entry["bins"], entry["frames"])
        print(f"{len(doc['outputs'])} outputs, {len(doc['failures'])} failures, config hash {doc['config_hash']}")
    else:
        for name in argv[1:]:
            ok &= check_file(name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
