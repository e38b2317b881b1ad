"""Ops that move or select values without arithmetic: reshape, transpose, expand, cat, stack,
indexing, gathers, copies and casts.

Their backward moves the gradient back the same way:
    reshape:   dx = g reshaped to x's shape
    transpose: dx = g with the same two axes swapped back
    expand:    dx = g summed over the broadcast axes (as for any broadcast)
    cat:       each input gets its slice of g
    stack:     each input gets its slice g[..., i, ...] of the new axis
    x[idx]:    dx = zeros with g added at idx (repeated indices add up)
    gather:    out[j] = x[rows[j]]  ->  dx[rows[j]] += g[j]  (a scatter-add, in the backend)
    copy:      dx = g
    cast:      dx = g cast back to x's dtype
Reshape, transpose, expand and basic indexing return views of x's memory (`may_view`).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast


class Reshape(Function):
    elementwise = True
    formula = ("1 (the same numbers, reshaped)",)

    may_view = True

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        self.saved = x.shape
        return x.reshape(shape)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (g.reshape(self.saved),)


class Transpose(Function):
    formula = ("∂L/∂{y}, transposed back",)

    may_view = True

    def forward(self, x: np.ndarray, dim0: int = 0, dim1: int = 1) -> np.ndarray:
        self.saved = (dim0, dim1)
        return np.swapaxes(x, dim0, dim1)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (np.swapaxes(g, *self.saved),)


class Cat(Function):
    formula = ("the slice of ∂L/∂{y} that came from this input",) * 16

    def forward(self, *xs: np.ndarray, dim: int = 0) -> np.ndarray:
        self.saved = (dim, [x.shape[dim] for x in xs])
        return np.concatenate(xs, axis=dim)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        dim, sizes = self.saved
        return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=dim))


class Index(Function):
    formula = ("∂L/∂{y}, put back where it was taken from (repeats add up)",)

    # NumPy's selection (slices, masks, index arrays mixed with slices), for every backend
    may_view = True

    def forward(self, x: np.ndarray, idx: object = None) -> np.ndarray:
        self.saved = (x.shape, idx)
        return np.asarray(x[idx])

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        shape, idx = self.saved
        dx = np.zeros(shape, dtype=g.dtype)
        np.add.at(dx, idx, g)
        return (dx,)


class Expand(Function):
    formula = ("∂L/∂{y}, summed over the expanded axes",)

    may_view = True

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        self.saved = x.shape
        return np.broadcast_to(x, shape)  # a read-only view, as torch's expand is a view

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (unbroadcast(self.be, g, self.saved),)


class Stack(Function):
    formula = ("the slice of ∂L/∂{y} that came from this input",) * 16

    def forward(self, *xs: np.ndarray, dim: int = 0) -> np.ndarray:
        self.saved = dim
        return np.stack(xs, axis=dim)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return tuple(np.moveaxis(g, self.saved, 0))


class GatherRows(Function):
    def forward(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        self.saved = (x.shape[0], rows)
        return self.be.gather_rows(x, rows)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        n_rows, rows = self.saved
        return (self.be.scatter_add_rows(g, rows, n_rows),)


class Contiguous(Function):
    elementwise = True
    formula = ("1",)

    def forward(self, x: np.ndarray, copy: bool = False) -> np.ndarray:
        return np.array(x, order="C") if copy else np.ascontiguousarray(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (g,)


class Cast(Function):
    elementwise = True
    formula = ("1",)

    def forward(self, x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
        self.saved = x.dtype
        return x.astype(dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (g.astype(self.saved),)
