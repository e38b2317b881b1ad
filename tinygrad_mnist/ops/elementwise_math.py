"""More elementwise functions: abs, sin, cos, log1p, and the selections maximum, minimum
and where.

NumPy computes these for every backend (neither backend has a kernel for them, and they
are no hot path of training); the backward uses the backend's mul where it multiplies.
    abs:        dx = g sign(x)                       (0 at x = 0, as torch)
    sin:        dx = g cos(x)
    cos:        dx = -g sin(x)
    log1p:      dx = g / (1 + x)
    maximum:    da = g [a > b] + g/2 [a = b]         db = g [b > a] + g/2 [a = b]   (torch)
    minimum:    the same with < for >
    where(c, a, b):  da = g [c]                      db = g [not c]
sinh, cosh, log10, sqrt, std, var and norm are built from these and the other ops
(tensors/math_methods.py), so their gradients follow.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast


class Abs(Function):
    elementwise = True
    formula = ("sign({a})",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return np.abs(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(g, np.sign(self.saved)),)


class Sin(Function):
    elementwise = True
    formula = ("cos({a})",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return np.sin(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(g, np.cos(self.saved)),)


class Cos(Function):
    elementwise = True
    formula = ("−sin({a})",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return np.cos(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(g, np.negative(np.sin(self.saved))),)


class Log1p(Function):
    elementwise = True
    formula = ("1/(1 + {a})",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = x
        return np.log1p(x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.div(g, np.add(self.saved, 1, dtype=self.saved.dtype)),)


class Maximum(Function):
    """maximum(a, b), or minimum(a, b) with `lower=True`; ties share the gradient."""

    elementwise = True
    formula = ("[{a} wins] (½ at a tie)", "[{b} wins] (½ at a tie)")

    def forward(self, a: np.ndarray, b: np.ndarray, lower: bool = False) -> np.ndarray:
        self.saved = (a, b, lower)
        return np.minimum(a, b) if lower else np.maximum(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b, lower = self.saved
        wins = (a < b) if lower else (a > b)
        share = np.where(wins, 1.0, np.where(a == b, 0.5, 0.0)).astype(g.dtype)
        da = unbroadcast(self.be, self.be.mul(g, share), a.shape)
        db = unbroadcast(self.be, self.be.mul(g, (1 - share).astype(g.dtype)), b.shape)
        return da, db


class Where(Function):
    """where(cond, a, b): a where cond holds, else b (cond is a fixed bool array)."""

    elementwise = True
    formula = ("[cond]", "[not cond]")

    def forward(self, a: np.ndarray, b: np.ndarray, cond: np.ndarray | None = None) -> np.ndarray:
        self.saved = (a.shape, b.shape, cond)
        return np.where(cond, a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        sa, sb, cond = self.saved
        zero = np.zeros((), g.dtype)
        da = unbroadcast(self.be, np.where(cond, g, zero), sa) if self.needs_grad[0] else None
        db = unbroadcast(self.be, np.where(cond, zero, g), sb) if self.needs_grad[1] else None
        return da, db
