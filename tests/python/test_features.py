"""mtag.load / stft / istft / feature.melspectrogram / feature.mfcc / cqt / power_to_db / filters.mel:
equal to the CLI's `mtag extract` output bit for bit, and to librosa's fixtures within the C++ tests'
tolerances (tests/dsp/test_stft.cpp, test_mel.cpp)."""
import glob
import json
import os

import numpy as np
import pytest

import mtag
from conftest import SHARED, require_fixture, run_mtag

LIBROSA = os.path.join(SHARED, "fixtures", "librosa")


def extract(tmp_path, wav, *args):
    """`mtag extract WAV --out DIR ARGS`, returns the one .npy it wrote."""
    out = tmp_path / "feats"
    run_mtag("--quiet", "--threads", "1", "extract", wav, "--out", out, *args)
    files = glob.glob(str(out / "*.npy"))
    assert len(files) == 1, files
    return np.load(files[0])


def test_version_matches_the_cli():
    assert mtag.__version__ == run_mtag("--version").stdout.split()[-1]


def test_melspectrogram_equals_extract_bit_for_bit(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    S = mtag.feature.melspectrogram(y=y, sr=sr)  # librosa's defaults: n_fft 2048, hop 512, 128 bands
    cli = extract(tmp_path, music_wav, "--feature", "mel", "--sample-rate", 22050, "--n-fft", 2048, "--hop-length", 512,
                  "--n-mels", 128)
    assert S.dtype == np.float32 and S.shape == (128, 1 + y.size // 512)
    assert np.array_equal(S, cli)


def test_mfcc_equals_extract_bit_for_bit(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    M = mtag.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    cli = extract(tmp_path, music_wav, "--feature", "mfcc", "--sample-rate", 22050, "--n-fft", 2048, "--hop-length",
                  512, "--n-mels", 128, "--n-mfcc", 20)
    assert M.dtype == np.float32 and M.shape == cli.shape == (20, 1 + y.size // 512)
    assert np.array_equal(M, cli)


def test_cqt_equals_extract_bit_for_bit(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    C = mtag.cqt(y, sr=sr)  # librosa's defaults: hop 512, 84 bins from C1, 12 per octave
    cli = extract(tmp_path, music_wav, "--feature", "cqt", "--sample-rate", 22050, "--hop-length", 512)
    assert C.dtype == np.complex64 and C.shape == cli.shape == (84, 1 + y.size // 512)
    # magnitude=True is |C| as mtag computes it, the CLI's numbers; np.abs of the complex result agrees to
    # float rounding (the C++ magnitude uses fused multiply-adds).
    magnitude = mtag.cqt(y, sr=sr, magnitude=True)
    assert magnitude.dtype == np.float32
    assert np.array_equal(magnitude, cli)
    np.testing.assert_allclose(np.abs(C), cli, rtol=1e-5, atol=1e-6 * cli.max())


def test_stft_power_equals_extract(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    D = mtag.stft(y, n_fft=1024, hop_length=256)
    cli = extract(tmp_path, music_wav, "--feature", "stft", "--sample-rate", 22050, "--n-fft", 1024, "--hop-length",
                  256)
    assert D.dtype == np.complex64 and D.shape == cli.shape == (513, 1 + y.size // 256)
    # The CLI's |X|^2 is computed in C++ (fused multiply-adds); NumPy's agrees to float rounding.
    np.testing.assert_allclose(np.abs(D.astype(np.complex128)) ** 2, cli, rtol=1e-5, atol=1e-6 * cli.max())


def test_resampled_load_equals_extract(tmp_path, music_wav):
    y, sr = mtag.load(music_wav, sr=16000)  # mtag.load's default res_type is the CLI's (soxr_hq)
    assert sr == 16000 and y.size == round(3 * 22050 * 16000 / 22050)
    S = mtag.power_to_db(mtag.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=256, n_mels=96))
    cli = extract(tmp_path, music_wav, "--feature", "logmel", "--sample-rate", 16000, "--n-fft", 512, "--hop-length",
                  256, "--n-mels", 96)
    assert np.array_equal(S, cli)


def test_float64_and_strided_inputs_give_the_float32_result(music_wav):
    y, sr = mtag.load(music_wav, sr=None)
    reference = mtag.feature.melspectrogram(y=y, sr=sr)
    np.testing.assert_array_equal(mtag.feature.melspectrogram(y=y.astype(np.float64), sr=sr), reference)
    doubled = np.repeat(y, 2)[::2]  # a non-contiguous view holding y
    assert not doubled.flags.c_contiguous
    np.testing.assert_array_equal(mtag.feature.melspectrogram(y=doubled, sr=sr), reference)
    assert mtag.stft(y.astype(np.float64)).dtype == np.complex64


def stft_fixture_signal():
    y, sr = mtag.load(os.path.join(LIBROSA, "test1_22050.wav"), sr=None, mono=False)
    assert y.shape == (2, 101155) and sr == 22050
    return y.mean(axis=0, dtype=np.float32), sr  # the fixtures' y: the mean of the two channels


def stft_cases():
    cases = os.path.join(LIBROSA, "stft_cases.json")
    require_fixture(cases, "the shared librosa fixtures")
    with open(cases) as f:
        return json.load(f)


def fixture_stft(case):
    ref = np.load(os.path.join(LIBROSA, case["file"]))
    return ref[..., 0].astype(np.float64) + 1j * ref[..., 1]


def test_stft_matches_librosa_fixtures():
    cases = stft_cases()
    y, _ = stft_fixture_signal()
    assert len(cases) >= 4
    for case in cases:
        window = "ones" if case["window"].startswith("ones") else "hann"
        D = mtag.stft(y, n_fft=case["n_fft"], hop_length=case["hop_length"], win_length=case["win_length"],
                      window=window, center=case["center"])
        ref = fixture_stft(case)
        assert D.shape == ref.shape
        assert np.max(np.abs(D - ref)) <= 1e-6 * np.max(np.abs(ref)), case["file"]  # test_stft.cpp's bound


def test_filters_mel_matches_every_librosa_filterbank():
    path = require_fixture(os.path.join(LIBROSA, "mel_filterbanks.json"), "the shared librosa fixtures")
    with open(path) as f:
        cases = json.load(f)
    assert len(cases) == 145
    for c in cases:
        W = mtag.filters.mel(sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"],
                             htk=c["htk"], norm=c["norm"])
        assert W.dtype == np.float32
        np.testing.assert_allclose(W, np.array(c["weights"]), rtol=1e-5, atol=1e-8, err_msg=c["source"])


def test_melspectrogram_matches_librosa_fixtures():
    """melspectrogram = mel filterbank x |STFT|^2: from y, against the fixtures' STFT through the fixture
    filterbank's formula; the bound adds test_stft.cpp's (1e-6 of the peak magnitude, so 2e-6 of the peak
    power) to test_mel.cpp's rtol 1e-5 on the weights."""
    y, sr = stft_fixture_signal()
    checked = 0
    for case in stft_cases():
        if not case["window"].startswith("hann") or case["win_length"] != case["n_fft"]:
            continue
        n_fft, hop = case["n_fft"], case["hop_length"]
        power = np.abs(fixture_stft(case)) ** 2
        W = mtag.filters.mel(sr=sr, n_fft=n_fft, n_mels=32).astype(np.float64)
        ref = W @ power
        S = mtag.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, center=False, n_mels=32)
        assert S.shape == ref.shape
        assert np.max(np.abs(S - ref)) <= (2e-6 + 1e-5) * np.max(ref), case["file"]
        # From a spectrogram: the filterbank alone, on the fixture's power spectrum.
        S2 = mtag.feature.melspectrogram(S=power, sr=sr, n_mels=32)
        np.testing.assert_allclose(S2, ref, rtol=1e-5, atol=1e-6 * np.max(ref))
        checked += 1
    assert checked >= 1


def test_istft_inverts_stft(music_wav):
    y, _ = mtag.load(music_wav, sr=None)
    y_hat = mtag.istft(mtag.stft(y, n_fft=1024, hop_length=256), hop_length=256, length=y.size)
    assert y_hat.dtype == np.float32 and y_hat.size == y.size
    assert np.max(np.abs(y_hat - y)) < 1e-5


def test_db_conversions_follow_librosa_formulas():
    rng = np.random.default_rng(1)
    S = rng.random((16, 40)).astype(np.float32) ** 4
    ref_db = 10 * np.log10(np.maximum(1e-10, S.astype(np.float64)))
    ref_db = np.maximum(ref_db, ref_db.max() - 80)
    np.testing.assert_allclose(mtag.power_to_db(S), ref_db, atol=1e-4)
    peak = mtag.power_to_db(S, ref=np.max, top_db=None)
    assert abs(peak.max()) < 1e-5
    amp = mtag.amplitude_to_db(np.sqrt(S) + 0j, ref=1.0)  # complex input: magnitudes, as librosa
    np.testing.assert_allclose(amp, np.maximum(20 * np.log10(np.maximum(1e-5, np.sqrt(S.astype(np.float64)))),
                                               20 * np.log10(np.sqrt(S.max())) - 80), atol=1e-4)
    assert mtag.power_to_db(S).shape == S.shape and S.min() >= 0  # the input is not modified


def test_bad_arguments_raise_value_error_with_mtags_message():
    y = np.zeros(4096, dtype=np.float32)
    with pytest.raises(ValueError, match="n_mels"):
        mtag.feature.melspectrogram(y=y, sr=22050, n_mels=0)
    with pytest.raises(ValueError, match="fmax"):
        mtag.feature.melspectrogram(y=y, sr=16000, fmax=9000)
    with pytest.raises(ValueError, match="1-D"):
        mtag.stft(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="n_mfcc"):
        mtag.feature.mfcc(y=y, n_mfcc=500)
    with pytest.raises(ValueError, match="res_type"):
        mtag.load("x.wav", res_type="nearest")


def test_res_type_names(tmp_path, music_wav):
    """librosa's res_type names pick the backend: soxr_* libsoxr, sinc_* libsamplerate (old names are aliases)."""
    default, _ = mtag.load(music_wav, sr=16000)
    hq, _ = mtag.load(music_wav, sr=16000, res_type="soxr_hq")
    sinc, _ = mtag.load(music_wav, sr=16000, res_type="sinc_medium")
    alias, _ = mtag.load(music_wav, sr=16000, res_type="medium")
    assert np.array_equal(default, hq) and np.array_equal(sinc, alias)
    assert default.size == sinc.size == 48000 and not np.array_equal(hq, sinc)
    # Two good converters agree within a few percent (they differ only near Nyquist, where sinc_medium rolls
    # off earlier); a misalignment by one sample would differ by half the 1.3 kHz partial's amplitude.
    middle = slice(1000, -1000)
    assert np.max(np.abs(hq[middle] - sinc[middle])) < 5e-2 * np.max(np.abs(hq))
    with pytest.raises(ValueError, match="soxr_vhq.*sinc_fastest"):
        mtag.load(music_wav, sr=16000, res_type="soxr_best")


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_file.wav"):
        mtag.load(tmp_path / "no_such_file.wav")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(RuntimeError, match="broken.wav"):
        mtag.load(broken)


def test_load_takes_open_binary_files_as_librosa_does(tmp_path, monkeypatch):
    # A file object (open(p, "rb"), io.BytesIO) is decoded from a temporary copy: the same samples as the path,
    # read from the object's current position, and the copy is gone afterwards. Text mode and empty objects
    # are ValueErrors that say why.
    import io
    monkeypatch.setenv("TMPDIR", str(tmp_path / "spool"))
    (tmp_path / "spool").mkdir()
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    song = tmp_path / "tone.flac"
    run_mtag("--quiet", "synth", "--tone", "330", "--seconds", "2", "--channels", "2", "--out", song)
    y, sr = mtag.load(song, sr=16000)
    with open(song, "rb") as f:
        y_file, sr_file = mtag.load(f, sr=16000)
    data = song.read_bytes()
    buffer = io.BytesIO(b"skipped" + data)
    buffer.seek(7)
    y_buffer, _ = mtag.load(buffer, sr=16000)
    assert sr_file == sr == 16000
    np.testing.assert_array_equal(y_file, y)
    np.testing.assert_array_equal(y_buffer, y)
    assert list((tmp_path / "spool").iterdir()) == []
    with open(song) as text, pytest.raises(ValueError, match="binary mode"):
        mtag.load(text)
    with pytest.raises(ValueError, match="no bytes"):
        mtag.load(io.BytesIO(b""))
    assert list((tmp_path / "spool").iterdir()) == []


def test_load_mp3_decode_modes_match_extract_and_each_other(tmp_path):
    # An MP3 made by the CLI (libsndfile + LAME): mp3_decode="full" is what `mtag extract` decodes, "fast" the
    # half-rate synthesis, close to it (the README's table), and an unknown mode is a ValueError.
    song = tmp_path / "tone.mp3"
    run_mtag("--quiet", "synth", "--tone", "440", "--seconds", "3", "--channels", "2", "--sample-rate", "44100",
             "--out", song)
    full, sr = mtag.load(song, sr=16000)
    fast, _ = mtag.load(song, sr=16000, mp3_decode="fast")
    assert sr == 16000 and full.shape == fast.shape == (48000,)
    error = fast.astype(np.float64) - full
    assert 10 * np.log10(np.sum(full.astype(np.float64) ** 2) / np.sum(error ** 2)) > 60.0
    out = tmp_path / "out"
    run_mtag("--quiet", "extract", song, "--out", out, "--feature", "mel", "--sample-rate", "16000",
             "--n-fft", "512", "--hop-length", "256", "--n-mels", "128")
    S = mtag.feature.melspectrogram(y=full, sr=16000, n_fft=512, hop_length=256)
    np.testing.assert_array_equal(S, np.load(out / "tone.npy"))
    with pytest.raises(ValueError, match="mp3_decode"):
        mtag.load(song, sr=16000, mp3_decode="quick")
