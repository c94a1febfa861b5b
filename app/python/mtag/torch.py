"""mtag.torch: PyTorch wrappers. Importing this module imports torch; the rest of mtag does not need it."""
import torch as _torch

from .data import Loader


class IterableDataset(_torch.utils.data.IterableDataset):
    """A :class:`mtag.data.Loader` as a ``torch.utils.data.IterableDataset`` of whole batches.

    Yields ``(features, targets, clip_ids)`` with features ``[batch, bins, frames]`` and targets
    ``[batch, n_tags]`` as float32 tensors sharing the loader's memory (``torch.from_numpy``). mtag's own
    worker threads do the loading: wrap it in ``DataLoader(ds, batch_size=None, num_workers=0)`` or iterate it
    directly. Takes a Loader, or the Loader's keyword arguments. Each pass is the loader's next epoch
    (``set_epoch`` chooses one).
    """

    def __init__(self, loader=None, **loader_kwargs):
        super().__init__()
        self.loader = loader if loader is not None else Loader(**loader_kwargs)

    def set_epoch(self, epoch):
        self.loader.epoch = int(epoch)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for features, targets, ids in self.loader:
            yield _torch.from_numpy(features), _torch.from_numpy(targets), ids
