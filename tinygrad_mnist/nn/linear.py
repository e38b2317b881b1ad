"""`Linear`: y = x @ weight^T + bias, weight (out, in) as in PyTorch."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _resolve_dtype
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
        dt = _resolve_dtype(dtype if dtype is not None else np.float32)
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
        """x (..., in) -> act(x @ w^T + b) (..., out); Sequential passes the next activation in.

        The fused op works on (B, in): other shapes are reshaped to it and back."""
        if x.ndim == 2:
            return F.linear(x, self.weight, self.bias, activation, negative_slope)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input of shape {x.shape} does not end in in_features={self.in_features}"
            )
        y = F.linear(x.reshape(-1, self.in_features), self.weight, self.bias, activation,
                     negative_slope)  # fmt: skip
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
