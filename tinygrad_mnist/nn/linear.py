"""`Linear`: y = x @ weight^T + bias, weight (out, in) as in PyTorch."""

from __future__ import annotations

import numpy as np

from ..dtypes import resolve_dtype
from ..tensors.tensor import Tensor
from . import functional as F
from .init import INITS, bias_uniform_
from .module import Module


class Linear(Module):
    """Linear(in_features, out_features, bias=True, init="kaiming", activation="relu").

    x (B, in) -> (B, out); as in torch, x may also be (in,) -> (out,) or (..., in) -> (..., out).
    `init` is "kaiming" (He uniform, the default, for ReLU nets) or
    "xavier" (Glorot uniform); `activation` names the nonlinearity that follows, which sets
    the init's gain. `seed` or `rng` makes the init reproducible.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "kaiming",
        activation: str | None = "relu",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: object = None,
    ) -> None:
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: sizes must be >= 1, got ({in_features}, {out_features})")
        if init not in INITS:
            raise ValueError(f"Linear: unknown init {init!r}; choose one of {sorted(INITS)}")
        rng = rng if rng is not None else np.random.default_rng(seed)
        dt = resolve_dtype(dtype if dtype is not None else np.float32)
        self.in_features, self.out_features = in_features, out_features
        w = np.empty((out_features, in_features))
        INITS[init](w, rng, activation)
        self.weight = Tensor(w, requires_grad=True, dtype=dt)
        self.bias: Tensor | None = None
        if bias:
            b = np.empty(out_features)
            bias_uniform_(b, in_features, rng)
            self.bias = Tensor(b, requires_grad=True, dtype=dt)

    def forward(self, x: Tensor, activation: str | None = None, negative_slope: float = 0.1):
        """x (..., in) -> act(x @ w^T + b) (..., out) as one fused op; a fusing Sequential
        passes the next layer's activation in. The fused op works on rows (B, in): other
        shapes are reshaped to it and back, as torch's Linear accepts them."""
        y = F.linear(self._rows(x), self.weight, self.bias, activation, negative_slope)
        return self._unrows(y, x)

    def forward_unfused(self, x: Tensor) -> Tensor:
        """x @ w^T + b with every op its own Function (Transpose, MatMul, Add): the same
        numbers as forward(x), the graph the course draws."""
        z = self._rows(x) @ self.weight.T
        return self._unrows(z if self.bias is None else z + self.bias, x)

    def _rows(self, x: Tensor) -> Tensor:
        """(..., in) as (B, in)."""
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input of shape {shape} does not end in in_features={self.in_features}"
            )
        return x if len(shape) == 2 else x.reshape(-1, self.in_features)

    def _unrows(self, y: Tensor, x: Tensor) -> Tensor:
        """(B, out) back to (..., out), the leading shape of the input x."""
        return y if x.data.ndim == 2 else y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
