"""`Dropout`: in training, zero each element with probability p and scale the rest by
1 / (1 - p), so the expected value is unchanged; in eval mode, the identity.

y = x * m / (1 - p) with a fixed random 0/1 mask m (from the default generator), so the
gradient is g * m / (1 - p): a product with a constant, which autograd already knows.
"""

from __future__ import annotations

import numpy as np

from ..tensors.random import rng_of
from ..tensors.tensor import Tensor
from .module import Module


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = rng_of(None).random(x.shape) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype if x.dtype.kind == "f" else np.float32)


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
