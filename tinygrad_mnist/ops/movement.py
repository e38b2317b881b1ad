"""Ops that move or select values without arithmetic: reshape, transpose, cat, indexing, cast.

Their backward moves the gradient back the same way:
    reshape:   dx = g reshaped to x's shape
    transpose: dx = g with the same two axes swapped back
    cat:       each input gets its slice of g
    x[idx]:    dx = zeros with g added at idx (repeated indices add up)
    cast:      dx = g cast back to x's dtype
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class Reshape(Function):
    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        self.saved = x.shape
        return x.reshape(shape)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (g.reshape(self.saved),)


class Transpose(Function):
    def forward(self, x: np.ndarray, dim0: int = 0, dim1: int = 1) -> np.ndarray:
        self.saved = (dim0, dim1)
        return np.swapaxes(x, dim0, dim1)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (np.swapaxes(g, *self.saved),)


class Cat(Function):
    def forward(self, *xs: np.ndarray, dim: int = 0) -> np.ndarray:
        self.saved = (dim, [x.shape[dim] for x in xs])
        return np.concatenate(xs, axis=dim)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        dim, sizes = self.saved
        return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=dim))


class Index(Function):
    def forward(self, x: np.ndarray, idx: object = None) -> np.ndarray:
        self.saved = (x.shape, idx)
        return np.asarray(x[idx])

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        shape, idx = self.saved
        dx = np.zeros(shape, dtype=g.dtype)
        np.add.at(dx, idx, g)
        return (dx,)


class Cast(Function):
    def forward(self, x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
        self.saved = x.dtype
        return x.astype(dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (g.astype(self.saved),)
