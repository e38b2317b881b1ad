"""The C kernels of issue 12 (csrc/minmax.c, index.c, pow_tensor.c) against the NumPy
reference, on odd sizes (1, 3, 17, 129) and a big one, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_mnist.backends import load

NP = load("numpy")
C = pytest.importorskip("tinygrad_mnist.backends.c_backend")
DTYPES = [np.float32, np.float64]
SIZES = [1, 3, 17, 129]
BIG = 100_003


def rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)


def tol(dtype):
    return dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)


SHAPES_AXES = [((n,), 0) for n in SIZES + [BIG]] + [
    ((3, 17), 0), ((3, 17), 1), ((17, 3, 129), 1), ((1, 129, 3), 2), ((129, 1), 0),
    ((2, 3, 4, 5), 3), ((BIG // 7, 7), 1), ((7, BIG // 7), 0),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("op", ["max_dim", "min_dim"])
def test_max_min_dim_and_backward(op, shape, axis, dtype):
    x = rand(shape, dtype)
    x.flat[:: max(1, x.size // 5)] = 1.5  # ties: the first index must win in both
    vc, ic = getattr(C, op)(x, axis)
    vn, in_ = getattr(NP, op)(x, axis)
    assert vc.shape == vn.shape and ic.dtype == np.int64
    np.testing.assert_array_equal(ic, in_)
    np.testing.assert_array_equal(vc, vn)
    g = rand(vn.shape, dtype, seed=1)
    np.testing.assert_array_equal(
        C.select_dim_backward(ic, g, shape, axis), NP.select_dim_backward(in_, g, shape, axis)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_dim_nan_and_views(dtype):
    x = rand((5, 17), dtype)
    x[1, 3] = x[1, 9] = np.nan
    x[4, 0] = np.nan
    for op in ("max_dim", "min_dim"):
        (vc, ic), (vn, in_) = getattr(C, op)(x, 1), getattr(NP, op)(x, 1)
        np.testing.assert_array_equal(ic, in_)  # the first NaN, as np.argmax
        np.testing.assert_array_equal(vc, vn)
    t = rand((17, 5), dtype).T  # a transposed view
    np.testing.assert_array_equal(C.max_dim(t, 0)[1], NP.max_dim(t, 0)[1])
    with pytest.raises(ValueError, match="empty"):
        C.max_dim(np.zeros((3, 0), dtype), 1)
    with pytest.raises(ValueError, match="out of range"):
        C.max_dim(x, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_rows", SIZES + [BIG])
@pytest.mark.parametrize("cols", [1, 3, 17])
def test_gather_and_scatter_add_rows(n_rows, cols, dtype):
    if n_rows == BIG and cols > 3:
        pytest.skip("big enough with fewer columns")
    x = rand((n_rows, cols), dtype)
    rows = np.random.default_rng(2).integers(0, n_rows, 2 * n_rows + 1)  # repeats
    np.testing.assert_array_equal(C.gather_rows(x, rows), NP.gather_rows(x, rows))
    g = rand((rows.size, cols), dtype, seed=3)
    np.testing.assert_allclose(
        C.scatter_add_rows(g, rows, n_rows), NP.scatter_add_rows(g, rows, n_rows), **tol(dtype)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_rows_checks_what_c_would_trust(dtype):
    x = rand((3, 2), dtype)
    for bad in (np.array([3]), np.array([-1]), np.array([[0]]), np.array([0.0])):
        with pytest.raises(ValueError, match="rows"):
            C.gather_rows(x, bad)
        with pytest.raises(ValueError, match="rows"):
            C.scatter_add_rows(rand((bad.size, 2), dtype), bad, 3)
    assert C.gather_rows(x, np.zeros(0, np.int64)).shape == (0, 2)
    assert (
        C.scatter_add_rows(np.zeros((0, 2), dtype), np.zeros(0, np.int64), 3).tolist()
        == [[0, 0]] * 3
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES + [BIG])
def test_pow_with_a_tensor_exponent_and_backward(n, dtype):
    rng = np.random.default_rng(4)
    a = rand(n, dtype)
    b = rng.integers(-3, 4, n).astype(dtype)  # integer exponents: negative bases are fine
    b[::2] = rand(b[::2].shape, dtype, seed=5)  # and fractional ones (NaN for a < 0)
    a[:: max(1, n // 4)] = 0  # 0 ** b, including 0 ** 0 and 0 ** -k
    b[:: max(1, n // 3)] = 0
    np.testing.assert_allclose(C.pow(a, b), NP.pow(a, b), equal_nan=True, **tol(dtype))
    y = NP.pow(a, b)
    g = rand(n, dtype, seed=6)
    for need in [(True, True), (True, False), (False, True)]:
        got, want = C.pow_backward(a, b, y, g, *need), NP.pow_backward(a, b, y, g, *need)
        for c_arr, n_arr in zip(got, want, strict=True):
            assert (c_arr is None) == (n_arr is None)
            if c_arr is not None:
                np.testing.assert_allclose(c_arr, n_arr, equal_nan=True, rtol=1e-5, atol=1e-5)


def test_pow_torch_conventions_in_both_backends():
    a = np.array([-2.0, -2.0, 0.0, 0.0, 0.0, 2.0])
    b = np.array([3.0, -2.0, 0.0, 2.0, -1.0, 0.5])
    for be in (NP, C):
        y = be.pow(a, b)
        np.testing.assert_allclose(y, [-8, 0.25, 1, 0, np.inf, np.sqrt(2)])
        da, db = be.pow_backward(a, b, y, np.ones(6))
        np.testing.assert_allclose(da, [12, 0.25, 0, 0, -np.inf, 0.5 / np.sqrt(2)])  # -2 a^-3
        assert np.isnan(db[0]) and np.isnan(db[1])  # log of a negative base, as torch
        np.testing.assert_allclose(db[2:], [0, 0, -np.inf, np.sqrt(2) * np.log(2)])  # inf log 0
