"""mtag.data.Loader: mtag's C++ prefetching batch loader, iterated from Python as NumPy batches."""
import json
import os

from . import _mtag
from ._convert import json_text


class Loader:
    """Batches ``(features, targets, clip_ids)`` of a dataset, built on mtag's C++ worker threads.

    - ``data``: any dataset ``mtag train --data`` reads (a ``manifest.csv`` or its folder such as a
      ``mtag synth`` corpus, MTAT, GTZAN, MTG-Jamendo).
    - ``features``: the front end as a dict, JSON string or file (mtag's FeatureConfig keys: ``kind``,
      ``sample_rate``, ``n_fft``, ``hop_length``, ``n_mels``, ...; default: 16 kHz 96-band log-mel).
    - ``augmentation``: None, True (the default pipeline), a dict / JSON string / file, or an
      :class:`mtag.augment.Pipeline`; applied to each crop's waveform before the front end.
    - ``crop_seconds``: one random crop of this length per clip per epoch (``features`` gives
      ``[batch, bins, frames]``); ``targets`` are multi-hot ``[batch, n_tags]`` over :attr:`tags`.
    - ``cache``: ``"memory"`` keeps decoded clips (epochs after the first skip decoding), a folder keeps
      whole-clip features as memory-mapped ``.npy`` (not with augmentation), None decodes every time.
    - ``split``: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
    - ``dataset``: how to read ``data``, as a dict / JSON string / file with the keys of a training config's
      ``data`` section but ``path``: ``format`` (auto, mtat, gtzan, jamendo, csv), ``audio_root``,
      ``split_files``, ``mtat_split`` (lee, folders), ``top_n``, ``jamendo_split``, ``jamendo_category``,
      ``duration_cache`` (``mtag train --format``, ``--audio-root``, ``--split-file``, ...).

    Iterating runs epoch :attr:`epoch` and then advances it, so ``for`` loops go over successive epochs.
    The batches depend only on (data, seed, epoch): the same for any number of ``workers``. A clip that
    cannot be read is left out of its batch (see :meth:`failures`).
    """

    def __init__(self, data, features=None, augmentation=None, batch_size=16, crop_seconds=3.0, seed=0, workers=2,
                 epoch=0, split="train", shuffle=True, drop_last=False, cache="memory", res_type="soxr_hq",
                 dataset=None):
        spec = _mtag.LoaderSpec()
        spec.data = os.fspath(data)
        if dataset is not None:
            spec.dataset_json = json_text(dataset, "dataset")[0]
        if features is not None:
            spec.features_json = json_text(features, "features")[0]
        if augmentation is True:
            spec.augmentation_json = _mtag.default_augmentation_json()
        elif augmentation is not None and augmentation is not False:
            if hasattr(augmentation, "config") and hasattr(augmentation, "apply"):
                spec.augmentation_json = json.dumps(augmentation.config)
            else:
                spec.augmentation_json, spec.augmentation_dir = json_text(augmentation, "augmentation")
        if int(batch_size) <= 0 or int(workers) <= 0:
            raise ValueError(f"batch_size and workers must be >= 1, got {batch_size} and {workers}")
        spec.batch_size = int(batch_size)
        spec.crop_seconds = float(crop_seconds)
        spec.seed = int(seed)
        spec.workers = int(workers)
        spec.split = str(split)
        spec.shuffle = bool(shuffle)
        spec.drop_last = bool(drop_last)
        spec.cache = "" if cache is None else os.fspath(cache)
        spec.res_type = str(res_type)
        self._loader = _mtag.BatchLoader(spec)
        self.epoch = int(epoch)

    @property
    def tags(self):
        """The tag vocabulary: column i of ``targets`` is ``tags[i]``."""
        return list(self._loader.tags)

    @property
    def clip_ids(self):
        """The ids of the clips the loader draws from (its split)."""
        return list(self._loader.clip_ids)

    @property
    def frames(self):
        """Frames per example (from ``crop_seconds`` and the front end's hop)."""
        return self._loader.frames

    @property
    def features(self):
        """The resolved front end (a dict)."""
        return json.loads(self._loader.features_json)

    def __len__(self):
        return self._loader.batches_per_epoch

    def __iter__(self):
        epoch = self.epoch
        self._loader.start_epoch(epoch)
        try:
            while True:
                batch = self._loader.next()
                if batch is None:
                    return
                yield batch
        finally:
            self.epoch = epoch + 1

    def failures(self):
        """Clips of the current epoch that could not be read, as ``[(path, reason), ...]``."""
        return list(self._loader.failures())
