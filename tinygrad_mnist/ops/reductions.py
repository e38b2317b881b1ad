"""Sum, max and min over dimensions (mean is a sum times 1/n, built in tensors/tensor.py).

sum over the reduced axes of x:   dx = g broadcast back over those axes
max/min along one dim (values, indices; the backend finds both in one pass):
                                  dx = g at the index picked in each slice, 0 elsewhere
max/min of everything:            dx = g / (number of ties) at every element equal to it
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import backends
from ..autograd.function import Function
from ..dtypes import FLOAT_DTYPES

if TYPE_CHECKING:
    from ..tensors.tensor import Tensor


class Sum(Function):
    formula = ("1 (for each summed element)",)

    def forward(self, x: np.ndarray, axis: tuple[int, ...] | None = None, keepdims: bool = False):
        self.saved = (x.shape, axis, keepdims)
        return self.be.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        shape, axis, keepdims = self.saved
        if not keepdims and axis is not None:
            g = np.expand_dims(g, axis)
        return (np.broadcast_to(g, shape),)


class SelectAlongDim(Function):
    """The values max(dim)/min(dim) picked (found by the backend beforehand) along `dim`."""

    def forward(
        self,
        x: np.ndarray,
        values: np.ndarray | None = None,
        indices: np.ndarray | None = None,
        dim: int = 0,
    ) -> np.ndarray:
        self.saved = (x.shape, indices, dim)
        return values

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        shape, indices, dim = self.saved
        return (self.be.select_dim_backward(indices, g, shape, dim),)


class ExtremeAll(Function):
    # A selection, not arithmetic, so NumPy does it for every backend (like Clamp).
    def forward(self, x: np.ndarray, which: str = "max") -> np.ndarray:
        m = np.asarray(x.max() if which == "max" else x.min())
        self.saved = x == m  # the ties share the gradient
        return m

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        ties = self.saved
        n = max(int(np.count_nonzero(ties)), 1)
        return (np.where(ties, g / n, 0).astype(g.dtype, copy=False),)


# ---------------------------------------------------------------- max and min, from the ops above
class MinMax(NamedTuple):
    """What max(dim)/min(dim) return, like torch.return_types.max: (values, indices)."""

    values: Tensor
    indices: Tensor


def extreme_all(x: Tensor, which: str) -> Tensor:
    """x.max() or x.min(): the largest (smallest) value as a 0-d tensor. Integer and bool
    tensors are compared in float64 and give their own dtype back, with no gradient."""
    xf = x if x.dtype in FLOAT_DTYPES else x.to(np.float64)
    if xf.numel() == 0:
        raise ValueError(f"{which}(): the tensor is empty, so it has no {which}imum")
    out = ExtremeAll.apply(xf, which=which)
    return out if xf.dtype == x.dtype else out.detach().to(x.dtype)


def extreme_along(x: Tensor, which: str, dim: int, keepdim: bool) -> MinMax:
    """x.max(dim) or x.min(dim) for a non-negative dim: (values, int64 indices)."""
    xf = x if x.dtype in FLOAT_DTYPES else x.to(np.float64)
    if x.ndim == 0:
        xf = xf.reshape(1)
    if xf.shape[dim] == 0:
        raise ValueError(f"{which}(): dimension {dim} of shape {x.shape} is empty")
    # the backend finds values and indices in one pass; the op routes the gradient
    vals, idx = getattr(backends.current(), which + "_dim")(xf.data, dim)
    values = SelectAlongDim.apply(xf, values=vals, indices=idx, dim=dim)
    if not keepdim:
        values, idx = values.squeeze(dim), np.squeeze(idx, dim)
    if x.ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    if xf.dtype != x.dtype:
        values = values.detach().to(x.dtype)
    return MinMax(values, x._wrap(idx))


def arg_extreme_all(x: Tensor, which: str, keepdim: bool) -> Tensor:
    flat = x.reshape(-1)
    if flat.numel() == 0:
        raise ValueError(f"arg{which}(): the tensor is empty")
    idx = extreme_along(flat, which, 0, False).indices.data
    return x._wrap(idx.reshape((1,) * x.ndim if keepdim else ()))
