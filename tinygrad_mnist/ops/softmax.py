"""softmax and log_softmax along one dimension.

With y the output and the sums taken along that dimension:
    softmax:     y = e^x / sum e^x          dx = y (g - sum(g y))
    log_softmax: y = x - log sum e^x        dx = g - e^y sum(g)
The backends work on the last axis; another `dim` is moved there and back.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Softmax(Function):
    formula = ("{y} ⊙ (∂L/∂{y} − Σ ∂L/∂{y} ⊙ {y})",)

    def forward(self, x: np.ndarray, dim: int = -1) -> np.ndarray:
        y = np.moveaxis(self.be.softmax(np.moveaxis(x, dim, -1)), -1, dim)
        self.saved = (y, dim)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        y, dim = self.saved
        dx = self.be.softmax_backward(np.moveaxis(y, dim, -1), np.moveaxis(g, dim, -1))
        return (np.moveaxis(dx, -1, dim),)


class LogSoftmax(Function):
    formula = ("∂L/∂{y} − e^{y} · Σ ∂L/∂{y}",)

    def forward(self, x: np.ndarray, dim: int = -1) -> np.ndarray:
        y = np.moveaxis(self.be.log_softmax(np.moveaxis(x, dim, -1)), -1, dim)
        self.saved = (y, dim)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        y, dim = self.saved
        dx = self.be.log_softmax_backward(np.moveaxis(y, dim, -1), np.moveaxis(g, dim, -1))
        return (np.moveaxis(dx, -1, dim),)
