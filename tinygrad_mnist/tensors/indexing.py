"""Indexing a Tensor: `x[0]`, `x[:, 1:3]`, `logp[range(B), y]`, `x[mask]`.

Two ops do it (ops/movement.py). An index made only of integer arrays (tensors, lists, ranges)
over the first dims, or of one bool mask, picks whole rows: it is a gather, one backend kernel
forward and a scatter-add backward (repeated indices add up). Anything else (ints, slices,
None, ..., or index arrays mixed with them) is NumPy's own selection, whose backward writes
the gradient back into the selected places.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ops import movement

if TYPE_CHECKING:
    from .tensor import Tensor

# what NumPy takes in an index as it is; anything else (a Tensor, a list, ...) is an array
_BASIC = (int, np.integer, slice, type(None), type(Ellipsis), np.ndarray)


def getitem(x: Tensor, idx: Any) -> Tensor:
    """x[idx], as a gather of rows when it is one, else as NumPy's selection."""
    idx = index_arg(idx)
    rows = gather_rows(idx, x.shape)
    if rows is None:
        return movement.Index.apply(x, idx=idx)
    flat, out_shape, k = rows
    n_rows = math.prod(x.shape[:k])
    table = x.reshape(n_rows, math.prod(x.shape[k:]))
    return movement.GatherRows.apply(table, rows=flat).reshape(*out_shape)


def index_arg(idx: Any) -> Any:
    """Tensors, lists and ranges in an index become arrays NumPy indexes with."""

    def one(i: Any) -> Any:
        if isinstance(i, range):
            i = np.arange(i.start, i.stop, i.step)
        elif not isinstance(i, _BASIC):  # a Tensor (np.asarray gives its data), a list, ...
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            if i.size or i.dtype.kind != "f":
                raise IndexError(
                    f"tensors used as indices must be integer or bool, got dtype {i.dtype}"
                )
            i = i.astype(np.int64)  # [] is float64 to NumPy
        return i

    return tuple(one(i) for i in idx) if isinstance(idx, tuple) else one(idx)


def gather_rows(idx: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple, int] | None:
    """For an index made only of integer arrays (and ints, with at least one array) over the
    first k dims, or one bool mask over them: (flat row numbers, output shape, k); else None."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    if not any(isinstance(p, np.ndarray) for p in parts):
        return None
    if len(parts) == 1 and parts[0].dtype == np.bool_:
        mask = parts[0]
        if mask.shape != shape[: mask.ndim]:
            raise IndexError(f"a mask of shape {mask.shape} does not fit a tensor of {shape}")
        parts = np.nonzero(mask)
    if len(parts) > len(shape):
        raise IndexError(f"too many indices ({len(parts)}) for a tensor of shape {shape}")
    arrays = []
    for d, p in enumerate(parts):
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            p = np.asarray(p)
        if not isinstance(p, np.ndarray) or p.dtype.kind not in "iu":
            return None  # slices, None, Ellipsis or a mask among them: NumPy's selection
        p = p.astype(np.int64, copy=False)
        n = shape[d]
        if p.size and (p.min() < -n or p.max() >= n):
            bad = p[(p < -n) | (p >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for dim {d} with size {n}")
        arrays.append(np.where(p < 0, p + n, p))
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise IndexError(
            f"index arrays of shapes {[a.shape for a in arrays]} do not broadcast together"
        ) from None
    k = len(arrays)
    flat = np.ravel_multi_index(arrays, shape[:k]) if arrays[0].size else arrays[0]
    return flat.reshape(-1).astype(np.int64, copy=False), arrays[0].shape + shape[k:], k
