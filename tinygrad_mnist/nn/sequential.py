"""`Sequential` runs modules in order; `MLP` is a Sequential of Linear + activation layers.

A Linear followed by an activation runs as one fused op (F.linear with that activation), so
on the C backend a layer is one kernel call forward and one backward, not three.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .activation import ACTIVATIONS, LeakyReLU
from .linear import Linear
from .module import Module


class Sequential(Module):
    def __init__(self, *modules: Module) -> None:
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: {m!r} is not a Module")
        self._modules = list(modules)

    def __getitem__(self, i: int) -> Module:
        return self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def forward(self, x: Tensor) -> Tensor:
        mods, i = self._modules, 0
        while i < len(mods):
            m = mods[i]
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            if isinstance(m, Linear) and getattr(nxt, "fused", None):
                slope = nxt.negative_slope if isinstance(nxt, LeakyReLU) else 0.1
                x = m(x, nxt.fused, slope)  # Linear + activation as one op
                i += 2
            else:
                x = m(x)
                i += 1
        return x


class MLP(Sequential):
    """MLP([784, 128, 64, 10], activation="relu"): Linear layers with the activation between
    them (none after the last, which gives logits). x (B, sizes[0]) -> (B, sizes[-1])."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str = "kaiming",
        seed: int | None = None,
        dtype: Any = None,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: need at least an input and an output size, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}"
            )
        self.sizes, self.activation = sizes, activation
        rng = np.random.default_rng(seed)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            act = None if last else activation
            layers.append(Linear(n_in, n_out, init=init, activation=act, rng=rng, dtype=dtype))
            if not last:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}"
