"""mtag.data.Loader and mtag.torch.IterableDataset: every clip once per epoch, the same batches for 1 and 2
workers, seeded epochs, NumPy batches of the documented shapes."""
import numpy as np
import pytest

import mtag
import mtag.data

FEATURES = {"kind": "logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 32}
AUGMENT = {"transforms": [{"type": "gain", "p": 0.5}, {"type": "coloured_noise", "p": 0.5}]}


def epoch(loader):
    return [(x.copy(), y.copy(), list(ids)) for x, y, ids in loader]


def test_each_clip_once_per_epoch_with_documented_shapes(corpus):
    loader = mtag.data.Loader(data=corpus, features=FEATURES, batch_size=3, crop_seconds=1.0, seed=4, workers=2,
                              split="all")
    batches = epoch(loader)
    assert len(batches) == len(loader) == 4  # 10 clips in batches of 3
    ids = [i for _, _, b in batches for i in b]
    assert sorted(ids) == sorted(loader.clip_ids) and len(set(ids)) == 10
    x, y, _ = batches[0]
    assert x.dtype == np.float32 and x.shape == (3, 32, loader.frames) and loader.frames == int(16000 / 256 + 0.5)  # C++ rounds half away from zero
    assert y.dtype == np.float32 and y.shape == (3, len(loader.tags)) and set(np.unique(y)) <= {0.0, 1.0}
    assert loader.epoch == 1  # iterating advanced the epoch


def test_same_batches_for_one_and_two_workers_and_epochs_differ(corpus):
    def run(workers, epoch_number):
        return epoch(mtag.data.Loader(data=corpus, features=FEATURES, augmentation=AUGMENT, batch_size=4,
                                      crop_seconds=0.5, seed=9, workers=workers, epoch=epoch_number))
    one, two = run(1, 0), run(2, 0)
    assert len(one) == len(two) > 0
    for (x1, y1, i1), (x2, y2, i2) in zip(one, two):
        assert i1 == i2
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    other = run(2, 1)
    assert [b[2] for b in other] != [b[2] for b in one] or not np.array_equal(other[0][0], one[0][0])


def test_feature_cache_cold_and_warm_give_the_same_batches(tmp_path, corpus):
    kwargs = dict(data=corpus, features=FEATURES, batch_size=5, crop_seconds=1.0, seed=1, workers=2)
    plain = epoch(mtag.data.Loader(cache=None, **kwargs))
    cached = mtag.data.Loader(cache=tmp_path / "cache", **kwargs)
    cold = epoch(cached)  # computes and writes whole-clip features
    assert list((tmp_path / "cache").rglob("*.npy"))
    cached.epoch = 0
    warm = epoch(cached)  # crops of the memory-mapped .npy
    for (x1, _, i1), (x2, _, i2), (_, _, i0) in zip(cold, warm, plain):
        assert i1 == i2 == i0  # the same order as without a cache
        np.testing.assert_array_equal(x1, x2)


def test_torch_iterable_dataset(corpus):
    torch = pytest.importorskip("torch")
    import mtag.torch
    ds = mtag.torch.IterableDataset(data=corpus, features=FEATURES, batch_size=4, crop_seconds=0.5, seed=2,
                                    workers=2)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=0)
    seen = 0
    for x, y, ids in loader:
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape[0] == y.shape[0] == len(ids)
        seen += len(ids)
    assert seen == len(ds.loader.clip_ids)


def test_loader_errors(tmp_path, corpus):
    with pytest.raises(FileNotFoundError):
        mtag.data.Loader(data=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="n_mels"):
        mtag.data.Loader(data=corpus, features={"kind": "logmel", "n_mels": 0})
    with pytest.raises(ValueError, match="split"):
        mtag.data.Loader(data=corpus, split="holdout")
    with pytest.raises(ValueError, match="crop_seconds"):
        mtag.data.Loader(data=corpus, crop_seconds=0)


def test_dataset_options_as_mtag_train_reads_them(tmp_path, corpus):
    # A key,split table that puts three clips in valid and drops the rest (clips absent from the split files
    # are left out, as with `mtag train --split-file`).
    every = mtag.data.Loader(data=corpus, features=FEATURES, split="all", workers=1)
    chosen = sorted(every.clip_ids)[:3]
    table = tmp_path / "split.csv"
    table.write_text("".join(f"{clip},valid\n" for clip in chosen))
    loader = mtag.data.Loader(data=corpus, features=FEATURES, split="valid", workers=1,
                              dataset={"format": "csv", "split_files": [str(table)]})
    assert sorted(loader.clip_ids) == chosen
    with pytest.raises(ValueError, match="'top_k'.*unknown key"):
        mtag.data.Loader(data=corpus, features=FEATURES, dataset={"top_k": 3})
    with pytest.raises(ValueError, match="format 'wav'"):
        mtag.data.Loader(data=corpus, features=FEATURES, dataset={"format": "wav"})
    with pytest.raises(ValueError, match="data= argument"):
        mtag.data.Loader(data=corpus, features=FEATURES, dataset={"path": str(corpus)})
