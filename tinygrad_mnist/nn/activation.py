"""Activation layers. Each names the activation (`fused`) that a preceding Linear can apply
in the same op when a Sequential fuses them (see nn/fusion.py); run alone, each calls its own
op (x.sigmoid(), ...)."""

from __future__ import annotations

from ..tensors.tensor import Tensor
from .module import Module


class ReLU(Module):
    fused = "relu"

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Sigmoid(Module):
    fused = "sigmoid"

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    fused = "tanh"

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class LeakyReLU(Module):
    """max(slope x, x) for slope in (0, 1); the course uses slope 0.1."""

    fused = "leaky_relu"

    def __init__(self, negative_slope: float = 0.1) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    fused = None

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(self.dim)


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return x.log_softmax(self.dim)


# The layer of each activation a Linear can run fused with, by the name of the fused op's
# activation (backends/interface.py: ACTIVATIONS): what nn.MLP(activation=...) takes.
ACTIVATION_LAYERS = {layer.fused: layer for layer in (ReLU, Sigmoid, Tanh, LeakyReLU)}
