"""Optimizers update each parameter in place, in the caller's memory layout, as torch does.

Every optimizer x both backends x foreach on/off x parameters that are 0-d, 1-d, 2-d,
transposed (not C-contiguous), strided, or that share one array (tied weights), compared with
torch.optim on the same layouts (torch.from_numpy shares the NumPy memory, as Tensor does).
The fixed numbers below are torch's, so the tests also run where torch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist import optim
from tinygrad_mnist.tensors.tensor import Tensor

try:
    import torch
except ImportError:  # the fixed expected numbers still check the results
    torch = None

OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd-momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd-nesterov-wd": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    "sgd-wd": ("SGD", {"lr": 0.1, "weight_decay": 0.5}),
    "adam": ("Adam", {"lr": 0.1}),
    "adam-wd": ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
}


def layout(name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """(the base array the caller keeps, the parameter arrays: views of it)."""
    if name == "0-d":
        base = np.array(0.5, dtype=np.float32)
        return base, [base]
    if name == "1-d":
        base = np.array([0.5, -0.25, 1.0], dtype=np.float32)
        return base, [base]
    base = np.arange(1, 7, dtype=np.float32).reshape(2, 3) / 10
    if name == "2-d":
        return base, [base]
    if name == "transposed":  # F-contiguous, not C-contiguous
        return base, [base.T]
    if name == "strided":  # every other element of a row
        big = np.arange(1, 13, dtype=np.float32).reshape(2, 6) / 10
        return big, [big[:, ::2]]
    if name == "shared":  # tied weights: one array seen as W and as W.T
        return base, [base, base.T]
    if name == "overlapping":  # two C-contiguous slices of one array that overlap
        flat = np.arange(1, 7, dtype=np.float32) / 10
        return flat, [flat[0:4], flat[2:6]]
    raise AssertionError(name)


LAYOUTS = ["0-d", "1-d", "2-d", "transposed", "strided", "shared", "overlapping"]


def coefficients(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Fixed factors k of the loss sum(k * p * p), so that each gradient 2 k p depends on p."""
    return [np.linspace(0.5, 1.5, a.size, dtype=np.float32).reshape(a.shape) for a in arrays]


def run_ours(opt_name, layout_name, backend_name, foreach, steps=3):
    cls, kw = OPTIMIZERS[opt_name]
    base, arrays = layout(layout_name)
    params = [Tensor(a, requires_grad=True) for a in arrays]
    ks = [Tensor(k) for k in coefficients(arrays)]
    with tg.backend(backend_name):
        opt = getattr(optim, cls)(params, foreach=foreach, **kw)
        for _ in range(steps):
            opt.zero_grad()
            loss = sum(((k * p * p).sum() for k, p in zip(ks, params)), Tensor(0.0))
            loss.backward()
            opt.step()
    return base, params


def run_torch(opt_name, layout_name, steps=3):
    cls, kw = OPTIMIZERS[opt_name]
    base, arrays = layout(layout_name)
    params = [torch.from_numpy(a).requires_grad_() for a in arrays]
    ks = [torch.from_numpy(k) for k in coefficients(arrays)]
    opt = getattr(torch.optim, cls)(params, **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = sum((k * p * p).sum() for k, p in zip(ks, params))
        loss.backward()
        opt.step()
    return base


# torch 2.13.0's base array after 3 steps: the fixed oracle
EXPECTED = {
    ("sgd-momentum", "shared"): [[0.0062, -0.0673, -0.1873], [-0.1777, -0.3487, -0.5124]],
    ("adam", "0-d"): 0.2049,
    ("adam-wd", "transposed"): [[-0.0744, -0.0672, 0.0133], [0.1074, 0.2049, 0.3035]],
    ("sgd-nesterov-wd", "strided"): [
        [0.0274, 0.2, 0.0247, 0.4, -0.0371, 0.6],
        [-0.1393, 0.8, -0.2649, 1.0, -0.3993, 1.2],
    ],
    ("adam", "overlapping"): [-0.0744, -0.0672, -0.1761, -0.1344, 0.2049, 0.3035],
}


@pytest.mark.parametrize("foreach", [True, False])
@pytest.mark.parametrize("backend_name", ["numpy", "c"])
@pytest.mark.parametrize("layout_name", LAYOUTS)
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_update_in_the_callers_memory_matches_torch(opt_name, layout_name, backend_name, foreach):
    if backend_name not in tg.backends.available():
        pytest.skip("the C backend is not built")
    base, params = run_ours(opt_name, layout_name, backend_name, foreach)
    _, arrays = layout(layout_name)
    for p, a in zip(params, arrays):
        assert p.data.shape == a.shape
        assert np.shares_memory(p.data, base), "the parameter no longer shares the caller's array"
    if torch is not None:
        want = run_torch(opt_name, layout_name)
        np.testing.assert_allclose(base, want, rtol=2e-5, atol=1e-6)
    if (opt_name, layout_name) in EXPECTED:
        np.testing.assert_allclose(base, EXPECTED[opt_name, layout_name], atol=1e-4)


def test_tied_weights_keep_sharing_one_array():
    """W and W.T as two parameters of one array (tied weights): each step must move the
    shared array by both gradients, as in torch."""
    a = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=np.float32)
    w, wt = Tensor(a, requires_grad=True), Tensor(a.T, requires_grad=True)
    opt = optim.SGD([w, wt], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        ((w * w).sum() + (wt * Tensor(np.full((3, 2), 2.0))).sum()).backward()
        opt.step()
    assert np.shares_memory(wt.data, a) and np.array_equal(wt.data, a.T)
    # torch.optim.SGD on torch.from_numpy(a) and torch.from_numpy(a.T), 3 steps:
    want = [[-0.9318, -0.9256, -0.9194], [-0.9132, -0.907, -0.9008]]
    np.testing.assert_allclose(a, want, atol=1e-4)
    if torch is not None:
        b = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=np.float32)
        tw, twt = torch.from_numpy(b).requires_grad_(), torch.from_numpy(b.T).requires_grad_()
        topt = torch.optim.SGD([tw, twt], lr=0.1, momentum=0.9)
        for _ in range(3):
            topt.zero_grad()
            ((tw * tw).sum() + (twt * 2.0).sum()).backward()
            topt.step()
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_read_only_parameter_is_refused_with_what_to_do():
    frozen = np.ones(3, dtype=np.float32)
    frozen.flags.writeable = False
    p = Tensor(frozen, requires_grad=True)
    with pytest.raises(ValueError, match=r"parameter 0 .* read-only.*copy"):
        optim.SGD([p], lr=0.1)


def test_a_non_leaf_parameter_is_refused_like_torch():
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([w * 2])


@pytest.mark.parametrize("backend_name", ["numpy", "c"])
def test_backend_steps_update_a_0d_parameter(backend_name):
    """The backends' own steps on 0-d arrays (a scalar parameter): the NumPy Adam step used
    to fail with "return arrays must be of ArrayType"."""
    if backend_name not in tg.backends.available():
        pytest.skip("the C backend is not built")
    be = tg.backends.load(backend_name)
    p, g = np.array(0.5, np.float32), np.array(0.25, np.float32)
    m, v = np.zeros((), np.float32), np.zeros((), np.float32)
    be.adam_step(p, g, m, v, 0.1, 0.9, 0.999, 1e-8, 0.0, 1)
    assert p.shape == () and p == np.float32(0.4)  # the first Adam step moves by lr
    assert m == np.float32(0.025) and v == pytest.approx(0.25**2 * 0.001)
    buf = np.zeros((), np.float32)
    be.sgd_step(p, g, buf, 0.1, 0.9, 0.0, True)  # nesterov: g + 0.9 g = 0.475
    assert p == pytest.approx(0.4 - 0.0475) and buf == np.float32(0.25)
