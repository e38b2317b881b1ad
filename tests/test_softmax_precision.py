"""log_softmax and cross-entropy of large-magnitude logits, on both backends, against float64.

log_softmax(x)_j = (x_j - m) - log S. Rounding m + log S first loses log S against a large
max m: in float32 the numbers near 1e7 are 1 apart, so three logits of 1e7 used to give -1.0
instead of -log 3 = -1.0986 on the C backend.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_mnist.backends import load

BACKENDS = [load("numpy"), load("c")]


def reference_log_softmax(x: np.ndarray) -> np.ndarray:
    """float64 log_softmax of the same (float32) numbers."""
    x = x.astype(np.float64)
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("be", BACKENDS, ids=lambda b: b.name)
def test_three_equal_logits_of_1e7_give_minus_log_3(be):
    x = np.full((1, 3), 1e7, np.float32)
    got = be.log_softmax(x)
    np.testing.assert_allclose(got, -math.log(3), rtol=1e-6)


@pytest.mark.parametrize("be", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("scale", [1e2, 1e4, 1e6, 1e7, 1e20])
@pytest.mark.parametrize("cols", [1, 3, 10, 129])
def test_large_logits_match_float64(be, scale, cols):
    rng = np.random.default_rng(cols)
    # logits near one big value (a confident model): the max is large, the spread small
    x = scale + rng.uniform(-3, 3, size=(17, cols)) * (scale * 1e-6 if scale > 1e7 else 1)
    for sign in (1, -1):
        x32 = (sign * x).astype(np.float32)
        ref = reference_log_softmax(x32)
        got = be.log_softmax(x32)
        # float32 output: one rounding of a float64-exact value, plus e^ of float32 numbers
        assert np.max(np.abs(got - ref)) <= 4e-7 * max(1.0, np.max(np.abs(ref))), (
            be.name,
            scale,
            np.max(np.abs(got - ref)),
        )


@pytest.mark.parametrize("be", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("scale", [1e4, 1e7])
def test_cross_entropy_of_large_logits_matches_float64(be, scale):
    rng = np.random.default_rng(0)
    x32 = (scale + rng.uniform(-3, 3, size=(33, 10))).astype(np.float32)
    labels = rng.integers(0, 10, size=33)
    loss, grad = be.cross_entropy(x32, labels)
    ref = -reference_log_softmax(x32)[np.arange(33), labels].mean()
    assert abs(float(loss) - ref) <= 1e-6 * max(1.0, ref)
    ref_grad = np.exp(reference_log_softmax(x32))
    ref_grad[np.arange(33), labels] -= 1
    np.testing.assert_allclose(grad, ref_grad / 33, atol=1e-7)
