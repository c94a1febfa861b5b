"""mtag.effects and mtag.augment.Pipeline: the same audio as `mtag augment` (float WAV output, exact)."""
import json

import numpy as np
import pytest

import mtag
from conftest import run_mtag


def augment_cli(tmp_path, wav, *args):
    out = tmp_path / "out.wav"
    run_mtag("--quiet", "augment", wav, out, "--float", *args)
    y, _ = mtag.load(out, sr=None)
    return y


def test_pitch_shift_equals_the_cli(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    shifted = mtag.effects.pitch_shift(y, sr=sr, n_steps=2)  # librosa's default res_type, soxr_hq, is the CLI's
    assert shifted.dtype == np.float32 and shifted.size == y.size
    np.testing.assert_array_equal(shifted, augment_cli(tmp_path, music_wav, "--pitch-shift", 2))
    fastest = mtag.effects.pitch_shift(y, sr=sr, n_steps=2, res_type="fastest")
    np.testing.assert_array_equal(fastest, augment_cli(tmp_path, music_wav, "--pitch-shift", 2, "--res-type",
                                                       "sinc_fastest"))
    # librosa's bins_per_octave: 4 steps of a 24-tone octave are 2 semitones.
    np.testing.assert_array_equal(
        mtag.effects.pitch_shift(y, sr=sr, n_steps=4, bins_per_octave=24, res_type="soxr_hq"), shifted)


def test_time_stretch_equals_the_cli_and_has_librosas_length(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    stretched = mtag.effects.time_stretch(y, rate=1.25, sr=sr)
    assert stretched.size == round(y.size / 1.25)
    cli = augment_cli(tmp_path, music_wav, "--time-stretch", 1.25)
    np.testing.assert_array_equal(stretched, cli)


def test_pipeline_equals_the_cli_and_is_seeded(tmp_path, music_wav):
    config = {"transforms": [{"type": "gain", "p": 1.0, "gain_db": [-6, 6]},
                             {"type": "coloured_noise", "p": 1.0, "snr_db": [10, 20]},
                             {"type": "polarity", "p": 0.5}]}
    path = tmp_path / "aug.json"
    path.write_text(json.dumps(config))
    y, sr = mtag.load(music_wav, sr=None)
    pipeline = mtag.augment.Pipeline(config, seed=5)
    a, applied = pipeline.apply(y, sr, clip=0, epoch=0)
    assert [t["type"] for t in applied][:2] == ["gain", "coloured_noise"]
    np.testing.assert_array_equal(a, pipeline(y, sr))                          # same triple, same audio
    np.testing.assert_array_equal(a, mtag.augment.Pipeline(str(path), seed=5)(y, sr))  # from a file
    assert not np.array_equal(a, pipeline(y, sr, epoch=1))                     # another epoch, other draws
    cli = augment_cli(tmp_path, music_wav, "--pipeline", path, "--seed", 5)
    np.testing.assert_array_equal(a, cli)
    assert pipeline.config["transforms"][0]["p"] == 1.0


def test_default_pipeline_and_errors(music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    assert mtag.augment.Pipeline(seed=1)(y, sr).size == y.size
    with pytest.raises(ValueError, match="unknown_effect"):
        mtag.augment.Pipeline({"transforms": [{"type": "unknown_effect"}]})
    with pytest.raises(ValueError, match="JSON"):
        mtag.augment.Pipeline("{not json")
    with pytest.raises(FileNotFoundError):
        mtag.augment.Pipeline("missing_pipeline.json")
    with pytest.raises(ValueError, match="rate"):
        mtag.effects.time_stretch(y, rate=10.0)
    with pytest.raises(ValueError):
        mtag.effects.pitch_shift(y, sr=sr, n_steps=40)
