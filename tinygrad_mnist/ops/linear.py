"""A Linear layer and its activation as one op: y = act(x @ w^T + b).

One fused op instead of matmul + add + activation means one backend call forward and one
backward, so the C backend can keep the whole layer in one pass over memory.
    dz = act'(y) g,   dx = dz @ w,   dw = dz^T @ x,   db = sum over the batch of dz
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class Linear(Function):
    def forward(
        self,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None = None,
        activation: str = "none",
        slope: float = 0.1,
    ) -> np.ndarray:
        y = self.be.linear(x, w, b, activation, slope)
        self.saved = (x, w, y, activation, slope)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, w, y, activation, slope = self.saved
        dx, dw, db = self.be.linear_backward(x, w, y, g, activation, slope, self.needs_grad[0])
        return (dx, dw, db)[: len(self.needs_grad)]
