"""The matmuls of one training step of an MLP: their shapes, their FLOPs, operands to time.

benchmarks/bench_train.py counts a step's FLOPs with these (the "fraction of peak") and times
the matmul-only ceiling on these shapes (contender `matmul_ceiling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def step_matmul_shapes(sizes: Sequence[int], batch_size: int) -> list[dict[str, Any]]:
    """The matmuls of one training step of an MLP, as {name, M, N, K, trans_a, trans_b}.

    Layer i (in -> out), batch B, computes C (M,N) = op(A) (M,K) @ op(B) (K,N):
      fwd  y  = x (B,in) @ w (out,in)^T    M=B,   N=out, K=in   trans_b
      dx   dx = dz (B,out) @ w (out,in)    M=B,   N=in,  K=out           (not for layer 0:
                                                                          the input needs no grad)
      dw   dw = dz (B,out)^T @ x (B,in)    M=out, N=in,  K=B    trans_a
    so an MLP of L layers has 3L - 1 matmuls per step.
    """
    shapes = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes.append(dict(name=f"L{i} fwd", M=batch_size, N=n_out, K=n_in, trans_a=0, trans_b=1))
        if i > 0:
            shapes.append(
                dict(name=f"L{i} dx", M=batch_size, N=n_in, K=n_out, trans_a=0, trans_b=0)
            )
        shapes.append(dict(name=f"L{i} dw", M=n_out, N=n_in, K=batch_size, trans_a=1, trans_b=0))
    return shapes


def matmul_flops(shapes: Sequence[dict[str, Any]]) -> int:
    """Floating-point operations of the matmuls: 2 M N K each."""
    return sum(2 * s["M"] * s["N"] * s["K"] for s in shapes)


def training_flops(sizes: Sequence[int], batch_size: int) -> int:
    """FLOPs of one training step, as counted for the fraction of peak: the matmuls only.

    Per layer (in -> out) at batch B: forward 2*B*in*out, backward 4*B*in*out (dW and dx,
    2*B*in*out each), except that the first layer's dx is not computed (the input needs no
    gradient). Bias adds, activations, softmax, cross-entropy and the optimizer update are
    not counted: they are O(B * width + parameters), well under 1% of the matmuls here.
    """
    return matmul_flops(step_matmul_shapes(sizes, batch_size))


def matmul_operands(
    shape: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(A, B as stored, op(A), op(B) as views, C): the arrays of one matmul shape."""
    m, n, k = shape["M"], shape["N"], shape["K"]
    a = rng.standard_normal((k, m) if shape["trans_a"] else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if shape["trans_b"] else (k, n), dtype=np.float32)
    op_a = a.T if shape["trans_a"] else a
    op_b = b.T if shape["trans_b"] else b
    return a, b, op_a, op_b, np.empty((m, n), np.float32)
