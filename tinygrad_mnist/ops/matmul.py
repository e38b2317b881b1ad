"""Matrix products.

For C = A @ B with A (M,K), B (K,N):   dA = G @ B^T (M,K),   dB = A^T @ G (K,N).
The backend's matmul takes transpose flags, so neither product copies a transposed matrix.
`BatchMatMul` handles stacks of matrices ((..., M, K) @ (..., K, N), batch dims broadcast)
one matrix at a time; `matmul` below reshapes 1-D and (..., K) @ (K, N) cases into `MatMul`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Function, unbroadcast

if TYPE_CHECKING:
    from ..tensors.tensor import Tensor


class MatMul(Function):
    formula = ("∂L/∂{y} · {b}ᵀ", "{a}ᵀ · ∂L/∂{y}")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return self.be.matmul(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        da = self.be.matmul(g, b, trans_b=True) if self.needs_grad[0] else None
        db = self.be.matmul(a, g, trans_a=True) if self.needs_grad[1] else None
        return da, db


class BatchMatMul(Function):
    formula = ("∂L/∂{y} · {b}ᵀ", "{a}ᵀ · ∂L/∂{y}")

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a3, b3 = _stacks(a, b, batch)
        out = _each(self.be.matmul, a3, b3, (a.shape[-2], b.shape[-1]), {})
        return out.reshape(batch + (a.shape[-2], b.shape[-1]))

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        batch = g.shape[:-2]
        a3, b3 = _stacks(a, b, batch)
        g3 = g.reshape(math.prod(batch), *g.shape[-2:])
        da = db = None
        if self.needs_grad[0]:
            da = _each(self.be.matmul, g3, b3, a.shape[-2:], {"trans_b": True})
            da = unbroadcast(self.be, da.reshape(batch + a.shape[-2:]), a.shape)
        if self.needs_grad[1]:
            db = _each(self.be.matmul, a3, g3, b.shape[-2:], {"trans_a": True})
            db = unbroadcast(self.be, db.reshape(batch + b.shape[-2:]), b.shape)
        return da, db


def _each(
    matmul, xs: np.ndarray, ys: np.ndarray, shape: tuple[int, ...], flags: dict
) -> np.ndarray:
    """matmul(xs[i], ys[i], **flags) for every i, stacked: [len(xs), *shape]. Written into one
    array rather than np.stack-ed, so an empty batch (a zero-size batch dim) gives an empty
    result, as in NumPy, instead of "need at least one array to stack"."""
    out = np.empty((len(xs), *shape), dtype=np.result_type(xs, ys))
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        out[i] = matmul(x, y, **flags)
    return out


def _stacks(a: np.ndarray, b: np.ndarray, batch: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """a and b broadcast to the batch shape and flattened to stacks [prod(batch), rows, cols].
    The count is explicit: reshape(-1, ...) is ambiguous when a matrix dim is 0."""
    n = math.prod(batch)
    a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape(n, *a.shape[-2:])
    b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape(n, *b.shape[-2:])
    return a3, b3


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: both operands need at least one dimension (use * for scalars)")
    k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match ({k_a} != {k_b})")
    if a.ndim <= 2 and b.ndim <= 2:
        a2 = a if a.ndim == 2 else a.reshape(1, -1)
        b2 = b if b.ndim == 2 else b.reshape(-1, 1)
        out = MatMul.apply(a2, b2)
        shape = a.shape[:-1] + b.shape[1:]
        return out if out.shape == shape else out.reshape(*shape)
    if b.ndim == 2:  # a stack of rows times one matrix: one big 2-D product
        return MatMul.apply(a.reshape(-1, k_a), b).reshape(*a.shape[:-1], b.shape[1])
    if b.ndim == 1:
        return matmul(a, b.reshape(-1, 1)).reshape(*a.shape[:-1])
    if a.ndim == 1:
        return matmul(a.reshape(1, -1), b).reshape(*b.shape[:-2], b.shape[-1])
    return BatchMatMul.apply(a, b)
