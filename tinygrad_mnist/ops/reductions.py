"""Sum over dimensions (mean is a sum times 1/n, built in tensor.py).

out = sum over the reduced axes of x:  dx = g broadcast back over those axes.
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
