"""Datasets as torch.utils.data has them: `Dataset` (anything with __getitem__ and __len__),
`TensorDataset` (rows of tensors), `Subset` and `random_split`.

A DataLoader (loader.py) batches any of them; a TensorDataset it batches with one gather
per tensor instead of one __getitem__ per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...tensors.random import Generator, rng_of
from ...tensors.tensor import Tensor

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """The base of map-style datasets: subclasses define __getitem__(i) and __len__()."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset):
    """TensorDataset(x, y, ...): sample i is (x[i], y[i], ...); every tensor keeps its dtype
    (int64 labels stay int64). NumPy arrays are accepted and become tensors of their dtype."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        ts = [t if isinstance(t, Tensor) else _tensor_of(t) for t in tensors]
        n = len(ts[0]) if ts[0].ndim else None
        if n is None or any(t.ndim == 0 or len(t) != n for t in ts):
            raise ValueError(
                f"TensorDataset: every tensor needs the same first dimension, got "
                f"{[t.shape for t in ts]}"
            )
        self.tensors = tuple(ts)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


def _tensor_of(x: Any) -> Tensor:
    arr = np.asarray(x)
    kind = arr.dtype.kind
    dt = np.int64 if kind in "iu" else np.bool_ if kind == "b" else arr.dtype
    return Tensor(arr, dtype=dt if kind != "f" or arr.dtype.itemsize >= 4 else np.float32)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Any, lengths: Sequence[float], generator: Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping random Subsets of the given lengths (or fractions that sum
    to 1, as torch: the remainder goes one by one to the first parts)."""
    n = len(dataset)
    if (
        lengths
        and all(0 <= x <= 1 for x in lengths)
        and abs(sum(lengths) - 1) < 1e-9
        and (sum(lengths) != n)
    ):
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to {n} samples")
    order = rng_of(generator).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]
