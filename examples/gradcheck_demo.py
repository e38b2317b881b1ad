"""Gradient checking catches a wrong backward.

We write sigmoid as our own Function twice: once with the right derivative y (1 - y), once
with a classic mistake (forgetting the (1 - y) factor). `check_gradients` compares each
backward with central finite differences, (f(x + eps) - f(x - eps)) / 2 eps, and reports the
worst element. The right one passes; the wrong one is caught.

Run: python examples/gradcheck_demo.py
"""

import numpy as np

from tinygrad_mnist import check_gradients
from tinygrad_mnist.autograd.function import Function


class GoodSigmoid(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = y = 1 / (1 + np.exp(-x))
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        y = self.saved
        return (g * y * (1 - y),)


class BuggySigmoid(GoodSigmoid):
    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        return (g * self.saved,)  # bug: the (1 - y) factor is missing


x = np.random.default_rng(0).standard_normal((3, 4))
for op in (GoodSigmoid, BuggySigmoid):
    report = check_gradients(lambda t, op=op: op.apply(t).sum(), [x])
    print(f"{op.__name__}:\n{report}\n")
    assert report.ok == (op is GoodSigmoid)
print("gradcheck passed the right backward and caught the wrong one.")
