"""`cmake --install` puts an importable package under PREFIX/lib/python3.X/{dist,site}-packages."""
import os
import subprocess
import sys

import pytest


def test_install_into_a_temporary_prefix(tmp_path):
    build = os.environ.get("MTAG_BUILD_DIR")
    if not build:
        if os.environ.get("CI") == "true":
            pytest.fail("MTAG_BUILD_DIR is not set (ctest sets it; CI=true: the install test must run)")
        pytest.skip("MTAG_BUILD_DIR not set (run through ctest)")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix), "--component", "python"], check=True,
                   capture_output=True)
    found = list(prefix.glob("lib/python3*/*-packages/mtag/_mtag*.so"))
    assert len(found) == 1, list(prefix.rglob("*"))
    site = found[0].parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", "import mtag, numpy; print(mtag.__version__, mtag.__file__); "
                          "print(mtag.feature.melspectrogram(y=numpy.zeros(4096, 'float32')).shape)"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(site) in out and "(128, 9)" in out


def test_import_mtag_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, mtag, mtag.data; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
