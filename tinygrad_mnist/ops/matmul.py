"""Matrix products.

For C = A @ B with A (M,K), B (K,N):   dA = G @ B^T (M,K),   dB = A^T @ G (K,N).
The backend's matmul takes transpose flags, so neither product copies a transposed matrix.
`BatchMatMul` handles stacks of matrices ((..., M, K) @ (..., K, N), batch dims broadcast)
one matrix at a time; Tensor.matmul reshapes 1-D and (..., K) @ (K, N) cases into `MatMul`.
"""

from __future__ import annotations

import math

import numpy as np

from ..function import Function, unbroadcast


class MatMul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return self.be.matmul(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        da = self.be.matmul(g, b, trans_b=True) if self.needs_grad[0] else None
        db = self.be.matmul(a, g, trans_a=True) if self.needs_grad[1] else None
        return da, db


class BatchMatMul(Function):
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
