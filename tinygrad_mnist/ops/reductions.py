"""Sum, max and min over dimensions (mean is a sum times 1/n, built in tensor.py).

sum over the reduced axes of x:   dx = g broadcast back over those axes
max/min along one dim (values, indices; the backend finds both in one pass):
                                  dx = g at the index picked in each slice, 0 elsewhere
max/min of everything:            dx = g / (number of ties) at every element equal to it
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class Sum(Function):
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
