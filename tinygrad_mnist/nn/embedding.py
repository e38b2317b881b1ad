"""`Embedding`: a table of vectors, one row per token; looking rows up is indexing,
weight[idx], a gather whose backward is a scatter-add (repeated tokens add up)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import resolve_dtype
from ..tensors.random import rng_of
from ..tensors.tensor import Tensor
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Embedding(num_embeddings, embedding_dim): idx (...) int64 -> (..., embedding_dim).
    The table starts as N(0, 1), as torch's."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, dtype: Any = None, **_: Any
    ) -> None:
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(
                f"Embedding: sizes must be >= 1, got ({num_embeddings}, {embedding_dim})"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        dt = resolve_dtype(dtype if dtype is not None else np.float32)
        w = rng_of(None).standard_normal((num_embeddings, embedding_dim))
        self.weight = Parameter(Tensor(w, dtype=dt))

    def forward(self, idx: Any) -> Tensor:
        arr = np.asarray(idx)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {arr.dtype}")
        return self.weight[arr]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
