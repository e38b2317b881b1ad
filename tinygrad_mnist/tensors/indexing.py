"""Indexing a Tensor: `x[0]`, `x[:, 1:3]`, `logp[range(B), y]`, `x[mask]`, and assigning
to it: `x[:, :10] = 0`, `x[idx] += 1`.

Two ops do it (ops/movement.py). An index made only of integer arrays (tensors, lists, ranges)
over the first dims, or of one bool mask, picks whole rows of a float tensor: it is a gather,
one backend kernel forward and a scatter-add backward (repeated indices add up). Anything
else (ints, slices, None, ..., index arrays mixed with them, or any index of an integer or
bool tensor, which has no gradient) is NumPy's own selection, whose backward writes the
gradient back into the selected places.

Where torch and NumPy differ, torch wins: an int among index arrays is a plain index in
torch (it drops its dim first), while NumPy counts it as one more index array. So
`x[1, :, idx]` on a (2, 5, 6) tensor is x[1][:, idx], of shape (5, len(idx)), as in torch
(NumPy would give (len(idx), 5)).

Assignment (`__setitem__`) writes in place and bumps the version counter, like the in-place
methods (tensors/inplace.py): allowed where no gradient is recorded, i.e. on tensors that do
not require grad, or under no_grad().
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import operand_array
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
        split = torch_order(idx, x.ndim)
        if split is not None:
            return getitem(getitem(x, split[0]), split[1])
        return movement.Index.apply(x, idx=idx)
    if x.data.dtype.kind != "f":  # the gather kernels are float; NumPy picks other rows
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
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            return int(i)  # a 0-d integer tensor indexes like an int, as in torch
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


def _is_int(p: Any) -> bool:
    return isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))


def torch_order(idx: Any, ndim: int) -> tuple[tuple, tuple] | None:
    """For an index with both ints and index arrays: (the ints and slices, then the arrays),
    two indexes applied one after the other, which is torch's rule; None for other indexes.

    The first step is basic indexing (a view), with `:` in place of each array (k of them for
    a k-dim mask); the second keeps `:` for every dim left and the arrays in their places."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    if not arrays or not any(_is_int(p) for p in parts):
        return None
    used = sum(
        p.ndim if isinstance(p, np.ndarray) and p.dtype == np.bool_ else 1
        for p in parts
        if p is not None and p is not Ellipsis
    )
    first: list[Any] = []
    second: list[Any] = []
    for p in parts:
        if p is Ellipsis:
            first += [slice(None)] * (ndim - used)
            second += [slice(None)] * (ndim - used)
        elif _is_int(p):
            first.append(p)
        elif isinstance(p, np.ndarray):
            first += [slice(None)] * (p.ndim if p.dtype == np.bool_ else 1)
            second.append(p)
        else:  # a slice or None: its dim stays for the second step
            first.append(p)
            second.append(slice(None))
    return tuple(first), tuple(second)


def setitem(x: Tensor, idx: Any, value: Any) -> None:
    """x[idx] = value: value broadcasts to the selection and converts to x's dtype."""
    x._check_in_place("x[idx] = value")
    if is_grad_enabled() and getattr(value, "requires_grad", False):
        raise RuntimeError(
            "x[idx] = value: the value requires grad, and an assignment is not recorded in "
            "the graph; assign under no_grad() or build the tensor out of place (cat, where)"
        )
    idx = index_arg(idx)
    target = x.data
    split = torch_order(idx, x.ndim)
    if split is not None:  # ints first (a view of x), then the index arrays
        target, idx = target[split[0]], split[1]
    v = operand_array(value, x.dtype)
    try:
        target[idx] = v
    except ValueError as e:
        raise ValueError(f"x[idx] = value: {e}") from None
    x._vbox[0] += 1
