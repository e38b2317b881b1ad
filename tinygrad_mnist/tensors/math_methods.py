"""More of torch's Tensor methods: abs, sin, cos, sinh, cosh, log1p, log10, maximum,
minimum, where, std, var, norm, mm, bmm, dot, mv, swapaxes, repeat.

The ones with their own derivative are ops in ops/elementwise_math.py; the rest are written
once from ops, so autograd gives their gradients:
    sinh(x) = (e^x - e^-x) / 2        cosh(x) = (e^x + e^-x) / 2
    log10(x) = log(x) / ln 10         var(x) = sum((x - mean)^2) / (n - correction)
    std(x) = sqrt(var(x))             norm(x) = sqrt(sum(x^2))   (p = 2, the default)
    repeat: expand over new size-1 axes, then reshape (the gradient sums the copies)

`MathMethods` is a part of the Tensor class (tensors/tensor.py), kept in its own file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ops import elementwise_math as em
from ..ops import matmul

if TYPE_CHECKING:
    from .tensor import Tensor


class MathMethods:
    __slots__ = ()

    def abs(self) -> Tensor:
        if self.dtype.kind != "f":  # integers stay integers (no gradient to give)
            return self._wrap(np.abs(self.data))
        return em.Abs.apply(self)

    def sin(self) -> Tensor:
        return em.Sin.apply(self._float())

    def cos(self) -> Tensor:
        return em.Cos.apply(self._float())

    def sinh(self) -> Tensor:
        x = self._float()
        return (x.exp() - (-x).exp()) * 0.5

    def cosh(self) -> Tensor:
        x = self._float()
        return (x.exp() + (-x).exp()) * 0.5

    def log1p(self) -> Tensor:
        return em.Log1p.apply(self._float())

    def log10(self) -> Tensor:
        return self.log() * (1.0 / math.log(10.0))

    def log2(self) -> Tensor:
        return self.log() * (1.0 / math.log(2.0))

    def square(self) -> Tensor:
        return self * self

    def maximum(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return em.Maximum.apply(a, b)

    def minimum(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return em.Maximum.apply(a, b, lower=True)

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where condition holds, else other (torch's Tensor.where); the gradient flows
        to both. Two integer operands give an integer result, outside the graph."""
        cond = np.asarray(condition)  # a Tensor gives its data
        if cond.dtype != np.bool_:
            cond = cond != 0
        b = other.data if hasattr(other, "requires_grad") else np.asarray(other)
        if self.dtype.kind != "f" and b.dtype.kind != "f":
            return self._wrap(np.where(cond, self.data, b))
        a, b = self._pair(other)
        return em.Where.apply(a, b, cond=cond)

    def var(
        self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None,
    ) -> Tensor:  # fmt: skip
        """Variance over dim (all elements by default), dividing by n - 1 as torch does
        (correction=0, or unbiased=False, divides by n)."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        x = self._float()
        axes = x._axes(dim)
        n = x.numel() if axes is None else math.prod(x.shape[a] for a in axes)
        d = x - x.mean(dim, keepdim=True)
        denom = n - correction
        return (d * d).sum(dim, keepdim) * (1.0 / denom if denom > 0 else float("nan"))

    def std(
        self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None,
    ) -> Tensor:  # fmt: skip
        return self.var(dim, unbiased, keepdim, correction=correction) ** 0.5

    def norm(
        self, p: float | str = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False
    ) -> Tensor:
        """The p-norm over dim (all elements by default): 2 (Frobenius, "fro"), 1, or inf."""
        x = self._float()
        if p in (2, "fro"):
            return (x * x).sum(dim, keepdim) ** 0.5
        if p == 1:
            return x.abs().sum(dim, keepdim)
        if p == float("inf"):
            a = x.abs()
            return a.max() if dim is None else a.amax(dim, keepdim)
        if isinstance(p, (int, float)) and p > 0:
            return (x.abs() ** p).sum(dim, keepdim) ** (1.0 / p)
        raise ValueError(f"norm: unsupported p={p!r}; use 1, 2, 'fro', inf or a positive number")

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return self.max()
        return self.max(dim, keepdim).values

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return self.min()
        return self.min(dim, keepdim).values

    def mm(self, other: Tensor) -> Tensor:
        """The matrix product of two 2-D tensors (torch.mm)."""
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise ValueError(
                f"mm: both operands must be 2-D, got {self.shape} and {getattr(other, 'shape', '?')}"
            )
        return self.matmul(other)

    def bmm(self, other: Tensor) -> Tensor:
        """Batched matrix product of (B, n, m) and (B, m, p) tensors (torch.bmm)."""
        if self.ndim != 3 or getattr(other, "ndim", 0) != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(
                f"bmm: need (B, n, m) and (B, m, p), got {self.shape} and "
                f"{getattr(other, 'shape', '?')}"
            )
        a, b = self._pair(other)
        return matmul.matmul(a._float(), b._float())

    def dot(self, other: Tensor) -> Tensor:
        """The dot product of two 1-D tensors of one length (torch.dot)."""
        if self.ndim != 1 or getattr(other, "ndim", 0) != 1 or self.shape != other.shape:
            raise ValueError(
                f"dot: need two 1-D tensors of one length, got {self.shape} and "
                f"{getattr(other, 'shape', '?')}"
            )
        return self.matmul(other)

    def mv(self, vec: Tensor) -> Tensor:
        """A 2-D tensor times a 1-D one (torch.mv)."""
        if self.ndim != 2 or getattr(vec, "ndim", 0) != 1:
            raise ValueError(
                f"mv: need a matrix and a vector, got {self.shape} and {getattr(vec, 'shape', '?')}"
            )
        return self.matmul(vec)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """Tile the tensor `sizes[i]` times along dim i (new dims in front), as torch."""
        reps = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        reps = tuple(int(r) for r in reps)
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} sizes for a tensor with {self.ndim} dims")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        # each dim n becomes (1, n), expanded to (r, n), then merged into r * n
        pairs = list(zip(reps, x.shape))
        y = x.reshape(*[v for _, n in pairs for v in (1, n)])
        y = y.expand(*[v for r, n in pairs for v in (r, n)])
        return y.reshape(*[r * n for r, n in pairs])

    def nelement(self) -> int:
        return self.data.size
