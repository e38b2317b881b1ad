"""Neurons, layers and MLPs built from scalar `Value`s, in the style of micrograd's nn.py.

Each number in the network is its own `Value`, so this is slow but fully transparent:
you can draw, print or inspect any weight or activation. Weights come from a
`random.Random(seed)` so that two runs with the same seed are identical.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .scalar import Number, Value


class Module:
    """Something with parameters: zero_grad() resets their gradients before backward()."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0


class Neuron(Module):
    """relu(w . x + b), or just w . x + b when nonlin=False (e.g. for output scores)."""

    def __init__(self, nin: int, nonlin: bool = True, seed: int | random.Random = 0) -> None:
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        # sum(..., start) begins from the bias, so b + w0*x0 + w1*x1 + ...
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` independent neurons that all read the same inputs."""

    def __init__(self, nin: int, nout: int, seed: int | random.Random = 0, **kw: bool) -> None:
        # One generator shared by all neurons, so each neuron gets different weights.
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        self.neurons = [Neuron(nin, seed=rng, **kw) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out  # a single output as a Value, like micrograd

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes nin -> nouts[0] -> ... -> nouts[-1]; ReLU on all but the last."""

    def __init__(self, nin: int, nouts: list[int], seed: int = 0) -> None:
        rng = random.Random(seed)
        sizes = [nin] + list(nouts)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], seed=rng, nonlin=i != len(nouts) - 1)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
