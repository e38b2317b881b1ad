"""Every Tensor op: forward against NumPy, backward against finite differences (float64).

Each test runs on both backends (the `backend_name` fixture in conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, cat, gradcheck

rng = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (name, tensor function, numpy reference, input arrays)
UNARY = [
    ("neg", lambda a: -a, lambda a: -a, [randn(3, 4)]),
    ("pow2", lambda a: a**2, lambda a: a**2, [randn(17)]),
    ("pow3", lambda a: a**3, lambda a: a**3, [randn(2, 3)]),
    ("pow_half", lambda a: a**0.5, np.sqrt, [positive(5)]),
    ("pow_neg", lambda a: a**-1.5, lambda a: a**-1.5, [positive(3, 3)]),
    ("exp", lambda a: a.exp(), np.exp, [randn(4, 5)]),
    ("log", lambda a: a.log(), np.log, [positive(4, 5)]),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [randn(3, 17)]),
    ("tanh", lambda a: a.tanh(), np.tanh, [randn(129)]),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), [randn(3, 4)]),
    ("leaky_relu", lambda a: a.leaky_relu(), lambda a: np.maximum(0.1 * a, a), [randn(6, 2)]),
    (
        "leaky_relu_02",
        lambda a: a.leaky_relu(0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        [randn(5)],
    ),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), [randn(4, 4)]),
    ("sum_all", lambda a: a.sum(), np.sum, [randn(3, 4)]),
    ("sum_0", lambda a: a.sum(0), lambda a: a.sum(0), [randn(3, 4)]),
    ("sum_1", lambda a: a.sum(dim=1), lambda a: a.sum(1), [randn(3, 4)]),
    (
        "sum_neg_keep",
        lambda a: a.sum(-1, keepdim=True),
        lambda a: a.sum(-1, keepdims=True),
        [randn(2, 3, 4)],
    ),
    ("sum_tuple", lambda a: a.sum((0, 2)), lambda a: a.sum((0, 2)), [randn(2, 3, 4)]),
    ("mean_all", lambda a: a.mean(), np.mean, [randn(3, 5)]),
    ("mean_1", lambda a: a.mean(1), lambda a: a.mean(1), [randn(3, 5)]),
    (
        "mean_keep",
        lambda a: a.mean(0, keepdim=True),
        lambda a: a.mean(0, keepdims=True),
        [randn(4, 2)],
    ),
    ("reshape", lambda a: a.reshape(1, 9), lambda a: a.reshape(1, 9), [randn(3, 3)]),
    ("reshape_tuple", lambda a: a.reshape((3, -1)), lambda a: a.reshape(3, -1), [randn(2, 3, 2)]),
    ("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1), [randn(2, 3, 4)]),
    ("flatten_1", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), [randn(2, 3, 4)]),
    ("transpose", lambda a: a.transpose(0, 1), lambda a: a.T, [randn(3, 5)]),
    ("transpose_3d", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), [randn(2, 3, 4)]),
    ("T", lambda a: a.T, lambda a: a.T, [randn(3, 5)]),
    ("T_3d", lambda a: a.T, lambda a: a.T, [randn(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), [randn(2, 3, 4)]),
    ("index", lambda a: a[1], lambda a: a[1], [randn(3, 4)]),
    ("index_slice", lambda a: a[:, 1:3], lambda a: a[:, 1:3], [randn(3, 4)]),
    ("index_repeat", lambda a: a[[0, 0, 2]], lambda a: a[[0, 0, 2]], [randn(3, 2)]),
    ("softmax", lambda a: a.softmax(), np_softmax, [randn(4, 10)]),
    ("softmax_0", lambda a: a.softmax(dim=0), lambda a: np_softmax(a, 0), [randn(4, 3)]),
    ("softmax_3d", lambda a: a.softmax(1), lambda a: np_softmax(a, 1), [randn(2, 3, 4)]),
    (
        "log_softmax",
        lambda a: a.log_softmax(),
        lambda a: np.log(np_softmax(a)),
        [randn(5, 7)],
    ),
    (
        "log_softmax_0",
        lambda a: a.log_softmax(0),
        lambda a: np.log(np_softmax(a, 0)),
        [randn(5, 7)],
    ),
]

BINARY = [
    ("add", lambda a, b: a + b, np.add, [randn(3, 4), randn(3, 4)]),
    ("add_row", lambda a, b: a + b, np.add, [randn(3, 4), randn(4)]),
    ("add_col", lambda a, b: a + b, np.add, [randn(3, 4), randn(3, 1)]),
    ("add_general", lambda a, b: a + b, np.add, [randn(2, 1, 3), randn(4, 1)]),
    ("sub", lambda a, b: a - b, np.subtract, [randn(5), randn(5)]),
    ("sub_bcast", lambda a, b: a - b, np.subtract, [randn(4), randn(3, 4)]),
    ("mul", lambda a, b: a * b, np.multiply, [randn(3, 4), randn(3, 4)]),
    ("mul_scalar_tensor", lambda a, b: a * b, np.multiply, [randn(3, 4), randn()]),
    ("mul_bcast", lambda a, b: a * b, np.multiply, [randn(2, 3, 1), randn(1, 4)]),
    ("div", lambda a, b: a / b, np.divide, [randn(3, 4), positive(3, 4)]),
    ("div_bcast", lambda a, b: a / b, np.divide, [randn(3, 4), positive(4)]),
    ("tensor_pow", lambda a, b: a**b, np.power, [positive(3), randn(3)]),
    ("matmul", lambda a, b: a @ b, np.matmul, [randn(3, 4), randn(4, 5)]),
    ("matmul_17_129", lambda a, b: a @ b, np.matmul, [randn(17, 129), randn(129, 3)]),
    ("matmul_vec_mat", lambda a, b: a @ b, np.matmul, [randn(4), randn(4, 5)]),
    ("matmul_mat_vec", lambda a, b: a @ b, np.matmul, [randn(3, 4), randn(4)]),
    ("matmul_vec_vec", lambda a, b: a @ b, np.matmul, [randn(4), randn(4)]),
    ("matmul_3d_2d", lambda a, b: a @ b, np.matmul, [randn(2, 3, 4), randn(4, 5)]),
    ("matmul_batched", lambda a, b: a @ b, np.matmul, [randn(2, 3, 4), randn(2, 4, 5)]),
    ("matmul_bcast_batch", lambda a, b: a @ b, np.matmul, [randn(2, 1, 3, 4), randn(3, 4, 2)]),
    ("matmul_2d_3d", lambda a, b: a @ b, np.matmul, [randn(3, 4), randn(2, 4, 5)]),
    ("matmul_vec_3d", lambda a, b: a @ b, np.matmul, [randn(4), randn(2, 4, 5)]),
    (
        "cat0",
        lambda a, b: cat([a, b]),
        lambda a, b: np.concatenate([a, b]),
        [randn(2, 3), randn(4, 3)],
    ),
    (
        "cat1",
        lambda a, b: cat([a, b], dim=1),
        lambda a, b: np.concatenate([a, b], 1),
        [randn(2, 3), randn(2, 1)],
    ),
    (
        "mse",
        F.mse_loss,
        lambda p, t: np.mean((p - t) ** 2),
        [randn(4, 3), randn(4, 3)],
    ),
]

CASES = [(n, f, r, xs) for n, f, r, xs in UNARY + BINARY]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,ref,inputs", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_numpy(backend_name, name, fn, ref, inputs, dtype):
    ts = [Tensor(x, dtype=dtype) for x in inputs]
    out = fn(*ts)
    want = ref(*[x.astype(dtype) for x in inputs])
    assert out.dtype == np.dtype(dtype)
    assert out.shape == np.shape(want)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.data, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,fn,ref,inputs", CASES, ids=[c[0] for c in CASES])
def test_backward_matches_finite_differences(backend_name, name, fn, ref, inputs):
    if name == "clamp":  # keep every element away from the kinks at +-0.5
        inputs = [np.where(np.abs(np.abs(inputs[0]) - 0.5) < 1e-3, 0.2, inputs[0])]
    assert gradcheck(fn, inputs)


LOSSES = [
    ("cross_entropy", lambda z: F.cross_entropy(z, [0, 2, 1, 2]), [randn(4, 3)]),
    ("nll", lambda z: F.nll_loss(z.log_softmax(), np.array([1, 0, 2])), [randn(3, 3)]),
    ("bce", lambda p: F.binary_cross_entropy(p.sigmoid(), [[1.0, 0.0], [0.0, 1.0]]), [randn(2, 2)]),
    ("linear_none", lambda x, w, b: F.linear(x, w, b), [randn(3, 4), randn(2, 4), randn(2)]),
    (
        "linear_relu",
        lambda x, w, b: F.linear(x, w, b, "relu"),
        [randn(5, 4), randn(3, 4), randn(3)],
    ),
    ("linear_sigmoid", lambda x, w: F.linear(x, w, None, "sigmoid"), [randn(5, 4), randn(3, 4)]),
    (
        "linear_tanh",
        lambda x, w, b: F.linear(x, w, b, "tanh"),
        [randn(2, 4), randn(3, 4), randn(3)],
    ),
    (
        "linear_leaky",
        lambda x, w, b: F.linear(x, w, b, "leaky_relu"),
        [randn(6, 3), randn(2, 3), randn(2)],
    ),
    (
        "linear_leaky_neg",
        lambda x, w: F.linear(x, w, None, "leaky_relu", -0.2),
        [randn(4, 3), randn(2, 3)],
    ),
]


@pytest.mark.parametrize("name,fn,inputs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_and_linear_gradients(backend_name, name, fn, inputs):
    assert gradcheck(fn, inputs)


def test_loss_values(backend_name):
    z = randn(4, 3)
    labels = np.array([0, 2, 1, 2])
    want = -np.mean(np.log(np_softmax(z))[np.arange(4), labels])
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(z, dtype="float64"), labels).item(), want, rtol=1e-12
    )
    np.testing.assert_allclose(
        F.nll_loss(Tensor(z, dtype="float64").log_softmax(), labels).item(), want, rtol=1e-12
    )
    p = np.array([[0.9, 0.2], [0.3, 0.6]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    want_bce = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    got = F.binary_cross_entropy(Tensor(p, dtype="float64"), t).item()
    np.testing.assert_allclose(got, want_bce, rtol=1e-12)
    # clamped: a confident wrong answer gives a large but finite loss
    assert np.isfinite(F.binary_cross_entropy(Tensor([0.0, 1.0]), [1.0, 0.0]).item())


def test_linear_matches_unfused(backend_name):
    x, w, b = randn(7, 5), randn(3, 5), randn(3)
    for act, f in [("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh), ("none", lambda z: z)]:
        got = F.linear(
            Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), Tensor(b, dtype="float64"), act
        )
        np.testing.assert_allclose(got.data, f(x @ w.T + b), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_extreme_logits(backend_name, dtype):
    z = Tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    s = z.softmax()
    ls = z.log_softmax()
    np.testing.assert_allclose(s.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    np.testing.assert_allclose(ls.data[0], [0, -2e4, -1e4], rtol=1e-6)
    loss = F.cross_entropy(z, [1, 0])
    assert loss.item() == pytest.approx((2e4 + np.log(3)) / 2, rel=1e-6)
    loss.backward()
    assert np.all(np.isfinite(z.grad.data))
    np.testing.assert_allclose(z.grad[0], [0.5, -0.5, 0], atol=1e-6)


def test_broadcast_backward_shapes(backend_name):
    a = Tensor(randn(2, 3, 4), requires_grad=True)
    b = Tensor(randn(3, 1), requires_grad=True)
    c = Tensor(randn(4), requires_grad=True)
    ((a * b + c) / 2.0).sum().backward()
    assert b.grad.shape == (3, 1) and c.grad.shape == (4,)
    np.testing.assert_allclose(c.grad, np.full(4, 3.0), rtol=1e-6)  # 2*3 copies, /2
    np.testing.assert_allclose(b.grad[:, 0], a.data.sum(axis=(0, 2)) / 2, rtol=1e-5)


def test_deep_chain_backward(backend_name):
    x = Tensor([1.0], requires_grad=True, dtype="float64")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-9)


def test_numbers_and_arrays_mix_in(backend_name):
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    m = np.array([[1.0, 0.0], [0.0, 2.0]])
    for got, want in [
        (x + 2.0, x.data + 2),
        (2 * x, 2 * x.data),
        (1 - x, 1 - x.data),
        (1 / x, 1 / x.data),
        (x @ m, x.data @ m),
        (m @ x, m @ x.data),
        (m + x, m + x.data),
        (2**x, 2**x.data),
    ]:
        assert isinstance(got, Tensor) and got.dtype == np.float32
        np.testing.assert_allclose(got.data, want, rtol=1e-6)
    (m @ x).sum().backward()
    np.testing.assert_allclose(x.grad, m.sum(0)[:, None].repeat(2, 1), rtol=1e-6)
    with pytest.raises(TypeError):
        x + "a"


def test_gradients_accumulate_and_reset(backend_name):
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [2 + 3, 4 + 3])
    x.zero_grad()
    assert x.grad is None
    y = x * x  # a reused node: both uses add up
    (y + y).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])
    x.zero_grad()
    z = (x * 2).retain_grad()
    (z * z).sum().backward()
    np.testing.assert_allclose(z.grad, 2 * z.data)


def test_shared_gradient_arrays_are_not_aliased(backend_name):
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both parents
    a.grad += 10
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_no_grad_and_detach(backend_name):
    from tinygrad_mnist import is_grad_enabled, no_grad

    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = x * 2
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y._ctx is None

    @no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.data, x.data)


def test_backward_errors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()
    with pytest.raises(ValueError, match="grad shape"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [2, 2])


def test_constructor_dtypes():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float32  # float64 data becomes float32 unless asked
    assert Tensor(np.zeros(3), dtype="float64").dtype == np.float64
    assert Tensor(np.zeros(3), dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64
    with pytest.raises(TypeError):
        Tensor([1, 2], dtype="int64", requires_grad=True)
    with pytest.raises(TypeError):
        Tensor([1.0], dtype="float16")
    with pytest.raises(TypeError):
        Tensor(["a"])
    t = Tensor([[1.0, 2.0]])
    assert t.shape == (1, 2) and t.ndim == 2 and len(t) == 1 and t.numel() == 2
    assert t.sum().item() == 3.0 and isinstance(t.numpy(), np.ndarray)
    with pytest.raises(ValueError):
        t.item()
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


def test_mixed_float_dtypes_promote(backend_name):
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, [3, 4])


def test_shape_errors(backend_name):
    with pytest.raises(ValueError, match="matmul"):
        Tensor(randn(2, 3)) @ Tensor(randn(4, 2))
    with pytest.raises(ValueError, match="reshape"):
        Tensor(randn(2, 3)).reshape(4, 2)
    with pytest.raises(ValueError, match="cat"):
        cat([Tensor(randn(2, 3)), Tensor(randn(2, 4))])
    with pytest.raises(IndexError):
        Tensor(randn(2, 3)).sum(2)
    with pytest.raises(ValueError, match="labels"):
        F.cross_entropy(Tensor(randn(2, 3)), [0, 3])
    with pytest.raises(ValueError, match="labels"):
        F.cross_entropy(Tensor(randn(2, 3)), [0])
    with pytest.raises(ValueError):
        F.mse_loss(Tensor(randn(2, 3)), randn(3, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(Tensor([2.0]), [1.0])


def test_gradcheck_catches_a_wrong_backward():
    from tinygrad_mnist.autograd.function import Function
    from tinygrad_mnist.gradient_check import GradcheckError, check_gradients

    class WrongSquare(Function):
        def forward(self, x):
            self.saved = x
            return x * x

        def backward(self, g):
            return (g * self.saved,)  # should be 2 x g

    with pytest.raises(GradcheckError, match="worst: input 0"):
        gradcheck(lambda t: WrongSquare.apply(t), [np.array([1.0, 2.0, 3.0])])
    report = check_gradients(lambda t: WrongSquare.apply(t).sum(), [np.array([1.0, 2.0, 3.0])])
    assert not report.ok and report.worst_index == (2,)
    assert report.analytic == pytest.approx(3.0) and report.numeric == pytest.approx(6.0)


def test_diamond_graph_gradients(backend_name):
    # c feeds out both directly and through d: backward must finish d before c.
    a = Tensor(-4.0, dtype="float64", requires_grad=True)
    c = a + 1
    d = c * 3
    out = c + (d + c) * c
    out.backward()
    # out = c + 4 c^2, d out / d a = 1 + 8 c = 1 + 8 (-3)
    assert a.grad.item() == pytest.approx(-23.0)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_nan_propagates_through_fused_linear(backend_name, act):
    x = Tensor([[np.nan, 1.0], [0.5, 1.0]])
    w = Tensor(np.ones((3, 2)))
    y = F.linear(x, w, None, act)
    assert np.isnan(y.data[0]).all() and np.isfinite(y.data[1]).all()
