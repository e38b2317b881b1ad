"""A Linear layer and its activation as one op: y = act(x @ w^T + b).

One fused op instead of matmul + add + activation means one backend call forward and one
backward, so the C backend can keep the whole layer in one pass over memory.
    dz = act'(y) g,   dx = dz @ w,   dw = dz^T @ x,   db = sum over the batch of dz
act' is the activation's own derivative: numpy_backend.sigmoid_backward (and friends) on the
NumPy backend, and the functions of csrc/activation_math.h on the C backend, the same ones
the standalone activation ops use. nn/fusion.py says when this op runs and how to turn it off.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def fused_name(activation: str | None) -> str:
    """The name a fused Linear op goes by: "linear+sigmoid", or "linear" with no activation."""
    return "linear" if activation in (None, "none") else f"linear+{activation}"


class FusedLinear(Function):
    formula = (
        "(act′ ⊙ ∂L/∂{y}) · {b}, with act′ the activation's derivative at {y}",
        "(act′ ⊙ ∂L/∂{y})ᵀ · {a}",
        "Σ over the batch of act′ ⊙ ∂L/∂{y}",
    )

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
        self.activation = activation  # kept for draw_dot after backward has freed `saved`
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, w, y, activation, slope = self.saved
        dx, dw, db = self.be.linear_backward(x, w, y, g, activation, slope, self.needs_grad[0])
        return (dx, dw, db)[: len(self.needs_grad)]

    def graph_label(self) -> str:
        """How draw_dot names this node: "linear+sigmoid" and the parts it fuses."""
        activation = self.activation
        parts = ["x @ w^T"] + (["+ b"] if len(self.needs_grad) == 3 else [])
        if activation != "none":
            parts.append(activation)
        return f"{fused_name(activation)}\n(fused: {', '.join(parts)})"
