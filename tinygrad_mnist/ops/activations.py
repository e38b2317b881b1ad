"""Elementwise functions of one input: exp, log and the activations.

Chain rule, with y = f(x) the output (most derivatives are cheapest in terms of y). Each
activation's derivative is defined once per backend, in the primitive its backward calls:
numpy_backend.sigmoid_backward (and tanh_, relu_, leaky_relu_backward) and the functions of
csrc/activation_math.h, which the fused Linear (ops/linear.py) uses as well.
    exp:        dx = g y
    log:        dx = g / x
    sigmoid:    dx = g y (1 - y)
    tanh:       dx = g (1 - y^2)
    relu:       dx = g [x > 0]
    leaky_relu: dx = g [x > 0] + slope g [x <= 0]
    clamp:      dx = g [lo <= x <= hi]
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Exp(Function):
    elementwise = True
    formula = ("e^{a} = {y}",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = y = self.be.exp(x)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(g, self.saved),)


class Log(Function):
    elementwise = True
    formula = ("1/{a}",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return self.be.log(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.div(g, self.saved),)


class Sigmoid(Function):
    elementwise = True
    formula = ("σ({a})(1−σ({a}))",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = y = self.be.sigmoid(x)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.sigmoid_backward(self.saved, g),)


class Tanh(Function):
    elementwise = True
    formula = ("1 − tanh²({a})",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = y = self.be.tanh(x)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.tanh_backward(self.saved, g),)


class ReLU(Function):
    elementwise = True
    formula = ("[{a} > 0]",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return self.be.relu(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.relu_backward(self.saved, g),)


class LeakyReLU(Function):
    elementwise = True
    formula = ("[{a} > 0] + slope·[{a} ≤ 0]",)

    # The default slope is the course's 0.1 (LeakyReLU = max(0.1x, x)); torch's default is
    # 0.01. Any negative_slope works, as in torch (negative or above 1 included).
    def forward(self, x: np.ndarray, slope: float = 0.1) -> np.ndarray:
        self.saved = (x, slope)
        return self.be.leaky_relu(x, slope)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, slope = self.saved
        return (self.be.leaky_relu_backward(x, g, slope),)


class Clamp(Function):
    elementwise = True
    formula = ("[lo ≤ {a} ≤ hi]",)

    # Clamping is a selection, not arithmetic, so NumPy does it for every backend.
    def forward(
        self, x: np.ndarray, lo: float | None = None, hi: float | None = None
    ) -> np.ndarray:
        y = np.clip(x, lo, hi)
        self.saved = y == x  # where the input passed through unchanged
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (np.where(self.saved, g, 0).astype(g.dtype, copy=False),)
