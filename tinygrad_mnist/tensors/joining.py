"""Joining tensors: `cat` along an existing dimension, `stack` along a new one (as in torch).

Both are one op each (ops/movement.py: Cat, Stack), whose backward slices the gradient back
into the pieces. Tensors of different dtypes meet at NumPy's common dtype first.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..ops import movement
from .tensor import Tensor


def _common_dtype(ts: list[Tensor]) -> list[Tensor]:
    dt = np.result_type(*[t.dtype for t in ts])
    return [t.to(dt) if t.dtype != dt else t for t in ts]


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (torch.cat)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    ts = _common_dtype(ts)
    d = ts[0]._axes(dim)[0]  # type: ignore[index]
    for t in ts[1:]:
        if (
            t.ndim != ts[0].ndim
            or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]
        ):
            raise ValueError(f"cat: shapes {[t.shape for t in ts]} differ outside dimension {dim}")
    return movement.Cat.apply(*ts, dim=d)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension (torch.stack)."""
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all tensors need one shape, got {[t.shape for t in ts]}")
    n = ts[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dim {dim} is out of range for {n} dimensions")
    return movement.Stack.apply(*_common_dtype(ts), dim=dim % n)
