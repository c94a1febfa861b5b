"""The GIL is released while mtag computes: two Python threads are inside mtag calls at the same moment.

The module's test hook (_mtag._testing.arm_rendezvous) makes every mtag computation, once it has released
the GIL, wait until two computations are inside at once (or a timeout). If a call kept the GIL, the second
thread could never enter, and the peak count would stay at 1. No timing is measured."""
import threading

import numpy as np

import mtag
from mtag import _mtag


def two_threads_inside(call):
    _mtag._testing.arm_rendezvous(2, 20.0)
    try:
        errors = []

        def run():
            try:
                call()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
    finally:
        peak = _mtag._testing.disarm_rendezvous()
    return peak


def test_two_threads_compute_features_at_once():
    y = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    assert two_threads_inside(lambda: mtag.feature.melspectrogram(y=y, sr=22050)) == 2
    assert two_threads_inside(lambda: mtag.cqt(y, sr=22050)) == 2


def test_two_threads_augment_at_once():
    y = np.random.default_rng(1).standard_normal(22050).astype(np.float32)
    assert two_threads_inside(lambda: mtag.effects.pitch_shift(y, sr=22050, n_steps=1)) == 2


def test_disarmed_hook_lets_calls_through():
    _mtag._testing.disarm_rendezvous()
    assert mtag.stft(np.zeros(4096, np.float32)).shape == (1025, 9)  # would wait 10 s if armed
    assert _mtag._testing.disarm_rendezvous() == 0
