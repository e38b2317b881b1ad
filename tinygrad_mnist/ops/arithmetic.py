"""+ - * / ** and unary minus, with NumPy broadcasting.

Chain rule for out = f(a, b), then `unbroadcast` sums each gradient back to its input's shape:
    a + b:  da = g          db = g
    a - b:  da = g          db = -g
    a * b:  da = g b        db = g a
    a / b:  da = g / b      db = -g a / b^2
    a ** p: da = g p a^(p-1)            (p a Python number; 0 when p = 0, as torch)
    a ** b: da = g b a^(b-1)            (0 where b = 0)
            db = g a^b log a            (0 where a = 0 and b >= 0; NaN for a < 0, as torch)
    -a:     da = -g
Powers are computed directly by the backend (pow(a, b)), never as exp(b log a), so negative
bases with integer exponents and 0 ** 0 = 1 come out right.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast


class Add(Function):
    elementwise = True
    formula = ("1", "1")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a.shape, b.shape)
        return self.be.add(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        sa, sb = self.saved
        return unbroadcast(self.be, g, sa), unbroadcast(self.be, g, sb)


class Sub(Function):
    elementwise = True
    formula = ("1", "−1")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a.shape, b.shape)
        return self.be.sub(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        sa, sb = self.saved
        db = unbroadcast(self.be, self.be.neg(g), sb) if self.needs_grad[1] else None
        return unbroadcast(self.be, g, sa), db


class Mul(Function):
    elementwise = True
    formula = ("{b}", "{a}")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return self.be.mul(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        da = unbroadcast(self.be, self.be.mul(g, b), a.shape) if self.needs_grad[0] else None
        db = unbroadcast(self.be, self.be.mul(g, a), b.shape) if self.needs_grad[1] else None
        return da, db


class Div(Function):
    elementwise = True
    formula = ("1/{b}", "−{a}/{b}²")

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
    elementwise = True
    formula = ("−1",)

    def forward(self, a: np.ndarray) -> np.ndarray:
        return self.be.neg(a)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.neg(g),)


class Pow(Function):
    elementwise = True
    formula = ("p·{a}^(p−1)",)

    def forward(self, a: np.ndarray, p: float) -> np.ndarray:
        self.saved = (a, p)
        return self.be.pow(a, p)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, p = self.saved
        be = self.be
        if p == 2:  # the common square: 2 a g, without a pow call
            return (be.mul(be.mul(g, a), np.asarray(2, a.dtype)),)
        if p == 0:  # a constant 1: no gradient, even at a = 0 where p a^(p-1) is 0 * inf
            return (np.zeros_like(g),)
        return (be.mul(g, be.mul(np.asarray(p, a.dtype), be.pow(a, p - 1))),)


class PowTensor(Function):
    elementwise = True
    formula = ("{b}·{a}^({b}−1)", "{a}^{b}·ln {a}")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(a.shape, b.shape)
        a_full, b_full = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        y = self.be.pow(a_full, b_full)
        self.saved = (a, b, y)
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b, y = self.saved
        shape = y.shape
        da, db = self.be.pow_backward(
            np.broadcast_to(a, shape), np.broadcast_to(b, shape), y, g,
            self.needs_grad[0], self.needs_grad[1],
        )  # fmt: skip
        return (
            None if da is None else unbroadcast(self.be, da, a.shape),
            None if db is None else unbroadcast(self.be, db, b.shape),
        )
