"""DataLoader: cuts a dataset into mini-batches of Tensors, optionally in a new random order
each epoch.

Two ways to call it:
    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, ...)   as torch's:
        any Dataset (dataset.py); each batch is the samples collated field by field into
        tensors of the samples' dtypes (int64 labels stay int64). A TensorDataset is batched
        with one gather per tensor.
    DataLoader(x, y, batch_size=128, shuffle=False, seed=None, drop_last=False)   the
        course's: two arrays, features stored as float32 and labels as int64.

Shuffling draws one permutation per epoch from a NumPy Generator: `seed`'s, else
`generator=`'s, else (for a dataset) the default generator that manual_seed seeds. Its state
and the epoch counter are exposed by `state_dict()`, so a checkpoint saved between epochs
resumes with exactly the batches the uninterrupted run would have seen. Batches are made in
this process: num_workers is accepted and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...tensors.random import Generator, rng_of
from ...tensors.tensor import Tensor
from .dataset import TensorDataset


class DataLoader:
    """Iterate over (x, y) in batches: each step yields (Tensor xb [B, ...], Tensor yb [B]).

    x: [N, ...] features, stored as float32 (converted once here if needed).
    y: [N] integer labels, stored as int64.
    B is `batch_size`, except for a smaller last batch unless `drop_last`.
    With `shuffle`, every `iter()` (every epoch) uses a new permutation from
    `np.random.default_rng(seed)`; the same seed gives the same sequence of epochs.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        batch_size: int | None = None,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
        *,
        generator: Generator | None = None,
        collate_fn: Any = None,
        num_workers: int = 0,
        **_ignored: Any,  # pin_memory, persistent_workers, ...: nothing to do on the CPU
    ) -> None:
        if y is None or isinstance(y, (int, np.integer)):  # torch's DataLoader(dataset, ...)
            self._init_dataset(x, y if batch_size is None else batch_size, shuffle, drop_last)
            if seed is not None or generator is not None:
                self._rng = np.random.default_rng(seed) if seed is not None else rng_of(generator)
            self.collate_fn = collate_fn
            return
        self.collate_fn = None
        if batch_size is None:
            batch_size = 128
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(
                f"x and y need the same number of samples, got shapes {x.shape} and {y.shape}"
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer class labels, got {y.dtype}")
        if y.size and not (np.iinfo(np.int64).min <= y.min() and y.max() <= np.iinfo(np.int64).max):
            bad = y.max() if y.max() > np.iinfo(np.int64).max else y.min()
            raise ValueError(f"y must hold class labels; {bad} is far outside any class range")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        # Convert once, up front: then each batch is a single gather (x[idx]) with no further
        # conversion. No copy is made when x already is C-contiguous float32.
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        self.y = np.ascontiguousarray(y, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0  # number of epochs started so far
        self._rng = np.random.default_rng(seed)
        self._dataset: Any = None

    def _init_dataset(self, dataset: Any, batch_size: Any, shuffle: bool, drop_last: bool):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader: expected a Dataset (with __getitem__ and __len__) or arrays x, y; "
                f"got {type(dataset).__name__}"
            )
        batch_size = 1 if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.epoch = 0
        self._rng = rng_of(None)  # the default generator: manual_seed makes it repeat

    @property
    def dataset(self) -> Any:
        """The dataset batched (for arrays x, y: a TensorDataset of them)."""
        if self._dataset is None:
            self._dataset = TensorDataset(Tensor(self.x), Tensor(self.y, dtype=np.int64))
        return self._dataset

    def _n(self) -> int:
        return len(self.x) if hasattr(self, "x") else len(self._dataset)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = self._n()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = self._n()
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        self.epoch += 1
        if not hasattr(self, "x"):
            yield from self._dataset_batches(order)
            return
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            # One fancy-index copy per array: the batch owns its memory, so nothing done to
            # it can change the dataset.
            yield Tensor(self.x[idx]), Tensor(self.y[idx], dtype=np.int64)

    def _dataset_batches(self, order: np.ndarray) -> Iterator[Any]:
        ds = self._dataset
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if type(ds) is TensorDataset and self.collate_fn is None:  # one gather per tensor
                yield [Tensor._wrap(t.data[idx]) for t in ds.tensors]
                continue
            samples = [ds[int(i)] for i in idx]
            yield (self.collate_fn or default_collate)(samples)

    def state_dict(self) -> dict[str, Any]:
        """The epoch counter and shuffling RNG state: plain dicts and ints (JSON-able).

        It describes what the *next* epoch will do, so save it between epochs; a save made
        mid-epoch resumes at the start of the following epoch.
        """
        return {"epoch": self.epoch, "rng": self._rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict()` returned; the next epoch then matches the saved run."""
        self.epoch = int(state["epoch"])
        self._rng.bit_generator.state = state["rng"]


def default_collate(samples: list[Any]) -> Any:
    """Samples into one batch, field by field, as torch's default_collate: tensors and arrays
    are stacked (keeping their dtype), Python ints become int64, floats float64 and bools
    bool tensors; tuples, lists and dicts are collated per field; strings stay a list."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.data for s in samples]))
    if isinstance(first, np.ndarray | np.number):
        arr = np.stack([np.asarray(s) for s in samples])
        if arr.dtype.kind in "iu":  # the integer dtype tensors have here
            arr = arr.astype(np.int64, copy=False)
        elif arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
            arr = arr.astype(np.float32)
        return Tensor._wrap(arr)
    if isinstance(first, bool):
        return Tensor._wrap(np.asarray(samples, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor._wrap(np.asarray(samples, dtype=np.int64))
    if isinstance(first, float):
        return Tensor._wrap(np.asarray(samples, dtype=np.float64))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: the samples have different numbers of fields")
        return [default_collate(list(field)) for field in zip(*samples)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")
