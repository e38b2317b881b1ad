"""`Linear`: y = x @ weight^T + bias, weight (out, in) as in PyTorch; `LazyLinear`, whose
in_features is read from its first input."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import check_device
from ..dtypes import resolve_dtype
from ..tensors.random import rng_of
from ..tensors.tensor import Tensor
from . import functional as F
from .init import INITS, bias_uniform_array
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """Linear(in_features, out_features, bias=True, init=None, activation="relu").

    x (B, in) -> (B, out); as in torch, x may also be (in,) -> (out,) or (..., in) -> (..., out).
    The initial weights are torch's by default: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
    `init` names one of the course's recipes instead: "kaiming" (He uniform, for ReLU nets;
    MLP and `tinygrad-mnist train` use it) or "xavier" (Glorot uniform), with `activation`
    naming the nonlinearity that follows, which sets their gain. `seed` or `rng` makes the
    init reproducible; without them the default generator (manual_seed) is used.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | None = None,
        activation: str | None = "relu",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: object = None,
        device: Any = None,
    ) -> None:
        check_device(device)
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: sizes must be >= 1, got ({in_features}, {out_features})")
        if init is not None and init not in INITS:
            raise ValueError(f"Linear: unknown init {init!r}; choose one of {sorted(INITS)}")
        if rng is None:
            rng = np.random.default_rng(seed) if seed is not None else rng_of(None)
        dt = resolve_dtype(dtype if dtype is not None else np.float32)
        self.in_features, self.out_features = in_features, out_features
        w = np.empty((out_features, in_features))
        if init is None:  # torch's: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in))
            bias_uniform_array(w, in_features, rng)
        else:
            INITS[init](w, rng, activation)
        self.weight = Parameter(Tensor(w, dtype=dt))
        self.bias: Tensor | None = None
        if bias:
            b = np.empty(out_features)
            bias_uniform_array(b, in_features, rng)
            self.bias = Parameter(Tensor(b, dtype=dt))

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


class LazyLinear(Linear):
    """LazyLinear(out_features): a Linear whose in_features is set by its first input.

    Until then its weight is an empty (out, 0) Parameter; the first forward fills that same
    Parameter object in place (torch's default init), so an optimizer made before it still
    holds the real weights."""

    def __init__(self, out_features: int, bias: bool = True, dtype: object = None, **kw: Any):
        super().__init__(1, out_features, bias, dtype=dtype, **kw)
        self.in_features = 0
        self.weight.data = self.weight.data[:, :0].copy()

    def forward(self, x: Tensor, *args: Any) -> Tensor:
        if self.in_features == 0:
            n = x.shape[-1]
            w = np.empty((self.out_features, n))
            bias_uniform_array(w, n, rng_of(None))
            self.weight.data = w.astype(self.weight.dtype)
            if self.bias is not None:
                bias_uniform_array(self.bias.data, n, rng_of(None))
            self.in_features = n
        return super().forward(x, *args)
