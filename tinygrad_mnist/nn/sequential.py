"""`Sequential` runs modules in order; `MLP` is a Sequential of Linear + activation layers.

By default a Linear followed by an activation runs as one fused op (F.linear with that
activation), so on the C backend a layer is one kernel call forward and one backward, not
three. `fuse=False` (or TINYGRAD_FUSE=0) runs every module on its own; `print(model)` says
which layers run fused. See nn/fusion.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..ops.linear import fused_name
from ..tensors.tensor import Tensor
from .activation import ACTIVATION_LAYERS, LeakyReLU
from .fusion import fusion_default
from .linear import Linear
from .module import Module


class Sequential(Module):
    """Sequential(*modules, fuse=None): x -> modules[0] -> modules[1] -> ...

    fuse: run each Linear and the activation right after it as one op (None: the
    environment's TINYGRAD_FUSE, on unless it is 0). The model's output is the same either way.
    """

    def __init__(self, *modules: Module, fuse: bool | None = None) -> None:
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: {m!r} is not a Module")
        self._modules = list(modules)
        self.fuse = fusion_default() if fuse is None else bool(fuse)

    def __getitem__(self, i: int) -> Module:
        return self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def fused_pairs(self) -> list[int]:
        """Indices i where modules i (a Linear) and i + 1 (its activation) run as one op."""
        if not self.fuse:
            return []
        mods, pairs, i = self._modules, [], 0
        while i < len(mods) - 1:
            if isinstance(mods[i], Linear) and getattr(mods[i + 1], "fused", None):
                pairs.append(i)
                i += 2
            else:
                i += 1
        return pairs

    def forward(self, x: Tensor) -> Tensor:
        mods, pairs, i = self._modules, self.fused_pairs(), 0
        while i < len(mods):
            m = mods[i]
            if i in pairs:  # Linear + activation as one op
                act = mods[i + 1]
                slope = act.negative_slope if isinstance(act, LeakyReLU) else 0.1
                x = m(x, act.fused, slope)
                i += 2
            elif isinstance(m, Linear) and not self.fuse:  # matmul, bias add: one op each
                x = m.forward_unfused(x)
                i += 1
            else:
                x = m(x)
                i += 1
        return x

    def __repr__(self) -> str:
        pairs = self.fused_pairs()
        lines = []
        for i, m in enumerate(self._modules):
            line = f"  ({i}): {repr(m)}".replace("\n", "\n  ")
            if i in pairs:
                name = fused_name(self._modules[i + 1].fused)
                line += f"  # runs fused with ({i + 1}) as one {name} op"
            elif i - 1 in pairs:
                line += f"  # fused into ({i - 1})"
            lines.append(line)
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ")" if not lines else head + "\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return f"fuse={self.fuse}"


class MLP(Sequential):
    """MLP([784, 128, 64, 10], activation="relu"): Linear layers with the activation between
    them (none after the last, which gives logits). x (B, sizes[0]) -> (B, sizes[-1]).
    fuse: as for Sequential (each Linear + activation as one op unless fuse=False)."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str = "kaiming",
        seed: int | None = None,
        dtype: Any = None,
        fuse: bool | None = None,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: need at least an input and an output size, got {sizes}")
        if activation not in ACTIVATION_LAYERS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; choose one of {sorted(ACTIVATION_LAYERS)}"
            )
        self.sizes, self.activation = sizes, activation
        rng = np.random.default_rng(seed)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            act = None if last else activation
            layers.append(Linear(n_in, n_out, init=init, activation=act, rng=rng, dtype=dtype))
            if not last:
                layers.append(ACTIVATION_LAYERS[activation]())
        super().__init__(*layers, fuse=fuse)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}, fuse={self.fuse}"
