"""Batched matmul with a zero-size dimension: values and gradients equal NumPy's on both
backends, broadcasting included."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_mnist import Tensor, backend


@pytest.mark.parametrize("backend_name", ["numpy", "c"])
@pytest.mark.parametrize(
    ("sa", "sb"),
    [((0, 2, 3), (0, 3, 4)), ((2, 0, 3), (2, 3, 4)), ((2, 2, 0), (2, 0, 4)), ((0, 2, 3), (3, 4)),
     ((3, 2, 3), (1, 3, 0)), ((2, 1, 2, 3), (3, 3, 0))],
)  # fmt: skip
def test_batched_matmul_with_a_zero_size_dim_matches_numpy(backend_name, sa, sb):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.normal(size=sa), rng.normal(size=sb)
    with backend(backend_name):
        a, b = Tensor(a_np, requires_grad=True), Tensor(b_np, requires_grad=True)
        out = a @ b
        out.sum().backward()
    want = a_np @ b_np
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want)
    g = np.ones(want.shape)
    np.testing.assert_allclose(a.grad, unbroadcast(g @ np.swapaxes(b_np, -1, -2), sa))
    np.testing.assert_allclose(b.grad, unbroadcast(np.swapaxes(a_np, -1, -2) @ g, sb))


def unbroadcast(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `x` over the dims broadcasting added to `shape`."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
