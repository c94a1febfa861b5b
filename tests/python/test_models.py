"""mtag.Tagger and mtag.read_run against `mtag tag` on a tiny run trained by `mtag train`."""
import json

import numpy as np
import pytest

import mtag
from conftest import run_mtag


def clip(corpus, i=0):
    return corpus / "audio" / f"clip_{i:05d}.wav"


def test_tag_a_file_equals_mtag_tag(tmp_path, run_dir, corpus):
    tagger = mtag.Tagger(run_dir)
    assert tagger.sample_rate == 16000 and len(tagger.tags) > 3
    result = tagger.tag(clip(corpus), top_k=3)
    assert [t["tag"] for t in result["tags"]] == sorted(result["scores"], key=result["scores"].get, reverse=True)[:3]
    cli = json.loads(run_mtag("--quiet", "--threads", "1", "tag", "--model", run_dir, clip(corpus), "--all-scores")
                     .stdout.splitlines()[0])
    assert cli["chunks"] == result["chunks"]
    for entry in cli["tags"]:
        assert result["scores"][entry["tag"]] == pytest.approx(entry["score"], abs=1e-6)


def test_tag_an_open_file_equals_its_path(run_dir, corpus):
    import io
    tagger = mtag.Tagger(run_dir)
    with open(clip(corpus), "rb") as f:
        from_file = tagger.tag(f)
    from_bytes = tagger.tag(io.BytesIO(clip(corpus).read_bytes()))
    assert from_file["scores"] == from_bytes["scores"] == tagger.tag(clip(corpus))["scores"]


def test_embeddings_and_taggram_equal_the_cli_npy(tmp_path, run_dir, corpus):
    tagger = mtag.Tagger(str(run_dir))
    emb = tagger.embeddings(clip(corpus, 1))
    tg = tagger.taggram(clip(corpus, 1))
    run_mtag("--quiet", "--threads", "1", "tag", "--model", run_dir, clip(corpus, 1), "--embeddings", tmp_path / "e",
             "--taggram", tmp_path / "t")
    np.testing.assert_array_equal(emb, np.load(tmp_path / "e" / "clip_00001.npy").reshape(emb.shape))
    np.testing.assert_array_equal(tg, np.load(tmp_path / "t" / "clip_00001.npy").reshape(tg.shape))
    assert emb.shape == (tagger.embedding_size,) and tg.shape[1] == len(tagger.tags)


def test_tag_an_array_at_another_rate(run_dir, corpus):
    tagger = mtag.Tagger(run_dir)
    y16, _ = mtag.load(clip(corpus, 2), sr=16000)
    from_file = tagger.tag(clip(corpus, 2))["scores"]
    from_array = tagger.tag(y16)["scores"]  # sr=None: already at the run's rate
    assert from_array == from_file
    y22, _ = mtag.load(clip(corpus, 2), sr=22050, res_type="best")
    resampled = tagger.tag(y22, sr=22050, top_k=None)["scores"]
    assert max(abs(resampled[t] - from_file[t]) for t in from_file) < 0.05


def test_read_run(run_dir):
    run = mtag.read_run(run_dir)
    assert run["card"]["model"]["preset"] == "cnn1d"
    assert run["card"]["tags"] == mtag.Tagger(run_dir).tags
    assert isinstance(run["log"], list) and [e["epoch"] for e in run["log"] if "epoch" in e] == [0]
    assert run["eval"]["best_epoch"] == 1 and 0 <= run["eval"]["roc_auc_macro"] <= 1
    assert run["eval"]["val_loss"] == pytest.approx(run["log"][0]["val_loss"])


def test_missing_run_and_bad_input(tmp_path, run_dir):
    with pytest.raises(FileNotFoundError):
        mtag.read_run(tmp_path / "no_run")
    with pytest.raises((FileNotFoundError, RuntimeError), match="no_run"):
        mtag.Tagger(tmp_path / "no_run")
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        mtag.Tagger(run_dir).tag(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="chunks"):
        mtag.Tagger(run_dir).tag(np.zeros(16000, np.float32), chunks="some")
