"""+ - * / ** and unary minus, with NumPy broadcasting.

Chain rule for out = f(a, b), then `unbroadcast` sums each gradient back to its input's shape:
    a + b:  da = g          db = g
    a - b:  da = g          db = -g
    a * b:  da = g b        db = g a
    a / b:  da = g / b      db = -g a / b^2
    a ** p: da = g p a^(p-1)            (p a Python number)
    -a:     da = -g
"""

from __future__ import annotations

import numpy as np

from ..function import Function, unbroadcast


class Add(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a.shape, b.shape)
        return self.be.add(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        sa, sb = self.saved
        return unbroadcast(self.be, g, sa), unbroadcast(self.be, g, sb)


class Sub(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a.shape, b.shape)
        return self.be.sub(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        sa, sb = self.saved
        db = unbroadcast(self.be, self.be.neg(g), sb) if self.needs_grad[1] else None
        return unbroadcast(self.be, g, sa), db


class Mul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return self.be.mul(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        da = unbroadcast(self.be, self.be.mul(g, b), a.shape) if self.needs_grad[0] else None
        db = unbroadcast(self.be, self.be.mul(g, a), b.shape) if self.needs_grad[1] else None
        return da, db


class Div(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return self.be.div(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        be = self.be
        da = unbroadcast(be, be.div(g, b), a.shape) if self.needs_grad[0] else None
        db = None
        if self.needs_grad[1]:
            db = unbroadcast(be, be.neg(be.div(be.mul(g, a), be.mul(b, b))), b.shape)
        return da, db


class Neg(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return self.be.neg(a)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.neg(g),)


class Pow(Function):
    def forward(self, a: np.ndarray, p: float) -> np.ndarray:
        self.saved = (a, p)
        return self.be.pow(a, p)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, p = self.saved
        be = self.be
        if p == 2:  # the common square: 2 a g, without a pow call
            return (be.mul(be.mul(g, a), np.asarray(2, a.dtype)),)
        return (be.mul(g, be.mul(np.asarray(p, a.dtype), be.pow(a, p - 1))),)
