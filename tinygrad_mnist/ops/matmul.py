"""Matrix products.

For C = A @ B with A (M,K), B (K,N):   dA = G @ B^T (M,K),   dB = A^T @ G (K,N).
The backend's matmul takes transpose flags, so neither product copies a transposed matrix.
`BatchMatMul` handles stacks of matrices ((..., M, K) @ (..., K, N), batch dims broadcast)
one matrix at a time; Tensor.matmul reshapes 1-D and (..., K) @ (K, N) cases into `MatMul`.
"""

from __future__ import annotations

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
        a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])
        b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])
        out = np.stack([self.be.matmul(x, y) for x, y in zip(a3, b3, strict=True)])
        return out.reshape(batch + (a.shape[-2], b.shape[-1]))

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        a, b = self.saved
        batch = g.shape[:-2]
        a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])
        b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])
        g3 = g.reshape(-1, *g.shape[-2:])
        da = db = None
        if self.needs_grad[0]:
            da = np.stack([self.be.matmul(x, y, trans_b=True) for x, y in zip(g3, b3, strict=True)])
            da = unbroadcast(self.be, da.reshape(batch + a.shape[-2:]), a.shape)
        if self.needs_grad[1]:
            db = np.stack([self.be.matmul(x, y, trans_a=True) for x, y in zip(a3, g3, strict=True)])
            db = unbroadcast(self.be, db.reshape(batch + b.shape[-2:]), b.shape)
        return da, db
