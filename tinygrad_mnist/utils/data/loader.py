"""DataLoader: cuts a dataset into mini-batches of Tensors, optionally in a new random order
each epoch.

Shuffling draws one permutation per epoch from a NumPy Generator. Its state and the epoch
counter are exposed by `state_dict()`, so a checkpoint saved between epochs resumes with
exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...tensors.tensor import Tensor


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
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 128,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
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

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:

        n = len(self.x)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        self.epoch += 1
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            # One fancy-index copy per array: the batch owns its memory, so nothing done to
            # it can change the dataset.
            yield Tensor(self.x[idx]), Tensor(self.y[idx], dtype=np.int64)

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
