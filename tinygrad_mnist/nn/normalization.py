"""`BatchNorm1d` and `LayerNorm`: normalise to mean 0 and variance 1, then scale and shift.

    y = (x - mean) / sqrt(var + eps) * weight + bias
BatchNorm1d takes mean and (biased) variance over the batch (and length) in training and
keeps running averages for eval, updated as running = (1 - momentum) running + momentum
batch (with the unbiased variance, as torch). LayerNorm takes them over the last dims of
each sample. Both are built from ops, so autograd gives the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensors.tensor import Tensor
from .module import Module
from .parameter import Parameter


class BatchNorm1d(Module):
    """BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True): x (B, C) or (B, C, L)."""

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
        track_running_stats: bool = True, **_: Any,
    ) -> None:  # fmt: skip
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(Tensor(np.ones(num_features)))
            self.bias = Parameter(Tensor(np.zeros(num_features)))
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features)))
            self.register_buffer("running_var", Tensor(np.ones(num_features)))
            self.register_buffer("num_batches_tracked", Tensor(0, dtype=np.int64))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected (B, {self.num_features}) or (B, {self.num_features}, L), "
                f"got {x.shape}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training or not self.track_running_stats:
            n = x.numel() // x.shape[1]
            if self.training and n <= 1:
                raise ValueError("BatchNorm1d: training needs more than one value per channel")
            mean = x.mean(axes, keepdim=True)
            var = ((x - mean) ** 2).mean(axes, keepdim=True)
            if self.training and self.track_running_stats:
                with no_grad():
                    m = self.momentum
                    unbiased = var.data.reshape(-1) * (n / max(n - 1, 1))
                    self.running_mean.data[...] = (1 - m) * self.running_mean.data + m * (
                        mean.data.reshape(-1)
                    )
                    self.running_var.data[...] = (1 - m) * self.running_var.data + m * unbiased
                    self.num_batches_tracked.data[...] += 1
        else:
            mean = self.running_mean.reshape(*shape)
            var = self.running_var.reshape(*shape)
        y = (x - mean) / (var + self.eps) ** 0.5
        if self.affine:
            y = y * self.weight.reshape(*shape) + self.bias.reshape(*shape)
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        )


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True): over the last dims."""

    def __init__(
        self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
        elementwise_affine: bool = True, bias: bool = True, **_: Any,
    ) -> None:  # fmt: skip
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(int(s) for s in shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(Tensor(np.ones(self.normalized_shape)))
            self.bias = Parameter(Tensor(np.zeros(self.normalized_shape))) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape:
            raise ValueError(f"LayerNorm: input {x.shape} does not end in {self.normalized_shape}")
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axes, keepdim=True)
        var = ((x - mean) ** 2).mean(axes, keepdim=True)
        y = (x - mean) / (var + self.eps) ** 0.5
        if self.elementwise_affine:
            y = y * self.weight
            if self.bias is not None:
                y = y + self.bias
        return y

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
