"""`import tinygrad_mnist as torch`: the names, dtypes, devices, creation functions, math,
indexing, printing and protocols a PyTorch program uses, checked against torch itself
where installed (and against NumPy and fixed values everywhere), on both backends."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist import Tensor, gradcheck, nn, no_grad

try:
    import torch
except ImportError:  # torch is a test oracle only
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# ---------------------------------------------------------------- import level
def test_torch_submodules_are_reachable_from_the_root():
    import subprocess
    import sys

    code = (
        "import tinygrad_mnist as torch\n"
        "print(torch.nn.Linear, torch.optim.SGD, torch.nn.functional.relu,\n"
        "      torch.utils.data.DataLoader, torch.utils.data.TensorDataset, torch.nn.init.zeros_,\n"
        "      torch.autograd.Function, torch.backends.mps.is_available(), torch.cuda.is_available())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False False")


TEXTBOOK_NAMES = (
    "ones zeros zeros_like ones_like tensor arange meshgrid sin sinh cos cosh tanh linspace "
    "exp log normal randn rand randint randperm matmul int32 float32 float64 int64 long bool "
    "float double eye cat stack reshape abs sqrt clamp where maximum minimum sum mean max "
    "argmax norm std var mm bmm log1p log10 sigmoid relu from_numpy multinomial full empty "
    "manual_seed Generator device save load no_grad Tensor concat dot mv"
).split()


@pytest.mark.parametrize("name", TEXTBOOK_NAMES)
def test_a_textbook_library_finds_each_name(name):
    assert getattr(tg, name) is not None
    assert name in dir(tg)


# ---------------------------------------------------------------- dtypes
def test_dtype_objects_and_conversions():
    assert tg.float is tg.float32 and tg.long is tg.int64 and tg.double is tg.float64
    t = tg.tensor([1.5, 2.0])
    assert t.dtype == tg.float32 and t.long().dtype == tg.int64 and t.int().dtype == tg.int64
    assert t.type() == "torch.FloatTensor" and t.long().type() == "torch.LongTensor"
    assert t.type(tg.float64).dtype == np.float64
    assert t.type("torch.LongTensor").tolist() == [1, 2]
    assert tg.tensor([1, 0]).bool().dtype == tg.bool and tg.tensor([True]).float().item() == 1.0


@needs_torch
@pytest.mark.parametrize(
    "data",
    [[1, 2, 3], [1.0, 2.5], [True, False], 3, 2.5, [[1, 2], [3, 4]],
     np.arange(3), np.arange(3.0), np.arange(3.0, dtype=np.float32), np.array([True])],
)  # fmt: skip
def test_tensor_infers_dtypes_as_torch(data):
    ours, theirs = tg.tensor(data), torch.tensor(data)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tg.as_tensor(data).dtype == ours.dtype
    assert Tensor(data).dtype == np.float32  # the constructor is float32, as torch.Tensor


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.arange(4)
    t = tg.from_numpy(a)
    assert t.dtype == np.int64
    a[0] = 9
    assert t[0].item() == 9
    assert tg.from_numpy(np.zeros(2, np.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="np.ndarray"):
        tg.from_numpy([1, 2])


def test_tensor_copies_its_data():
    a = np.zeros(3, np.float32)
    t = tg.tensor(a)
    a[0] = 1
    assert t[0].item() == 0


# ---------------------------------------------------------------- devices
def test_device_api_on_the_cpu():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.backends.mps.is_available() is False
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None
    d = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    assert d == "cpu" and str(d) == "cpu" and d.type == "cpu"
    t = tg.ones(2)
    assert t.to(d) is t and t.to("cpu") is t and t.cpu() is t and t.device == d
    assert t.to(d, tg.float64).dtype == np.float64
    assert t.to(dtype=tg.int64).dtype == np.int64
    model = nn.Linear(2, 2).to(d)
    assert model.weight.dtype == np.float32
    assert nn.Linear(2, 2).to(tg.float64).weight.dtype == np.float64
    assert tg.get_backend() in ("c", "numpy")  # our own backends package still works


@pytest.mark.parametrize("request_", ["cuda", "cuda:0", "mps", tg.device("cuda", 1)])
def test_a_gpu_request_is_a_clear_error(request_):
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.ones(2).to(request_)
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2).to(request_)
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.zeros(2, device=request_)


def test_unknown_device_name():
    with pytest.raises(ValueError, match="unknown device"):
        tg.device("gpu")


# ---------------------------------------------------------------- creation and random
@needs_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda M: M.zeros(2, 3), lambda M: M.ones((2, 3)), lambda M: M.full((2,), 7),
        lambda M: M.full((2,), 0.5), lambda M: M.full((1,), True), lambda M: M.arange(5),
        lambda M: M.arange(0, 1, 0.25), lambda M: M.arange(1, 10, 3), lambda M: M.linspace(0, 1, 5),
        lambda M: M.eye(3), lambda M: M.eye(2, 3), lambda M: M.zeros_like(M.tensor([1, 2])),
        lambda M: M.ones_like(M.tensor([1.0])), lambda M: M.empty(2, 2).zero_(),
        lambda M: M.zeros(2, dtype=M.int64), lambda M: M.full_like(M.tensor([1.0, 2.0]), 3),
    ],
)  # fmt: skip
def test_creation_matches_torch(call):
    ours, theirs = call(tg), call(torch)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_random_functions_shapes_dtypes_and_seeds():
    tg.manual_seed(0)
    a = (tg.randn(3, 4), tg.rand(2), tg.randint(0, 5, (100,)), tg.randperm(6))
    tg.manual_seed(0)
    b = (tg.randn(3, 4), tg.rand(2), tg.randint(0, 5, (100,)), tg.randperm(6))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert a[0].dtype == np.float32 and a[2].dtype == np.int64 and a[3].dtype == np.int64
    assert 0 <= a[2].min().item() and a[2].max().item() < 5
    assert sorted(a[3].tolist()) == list(range(6))
    assert tg.randint(3, (2, 2)).shape == (2, 2)
    assert ((a[1] >= 0) & (a[1] < 1)).all()
    g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
    np.testing.assert_array_equal(
        tg.randn(4, generator=g1).numpy(), tg.randn(4, generator=g2).numpy()
    )
    assert tg.randn(2, 2, dtype=tg.float64).dtype == np.float64
    assert tg.randn(2, requires_grad=True).requires_grad


@pytest.mark.slow
def test_runs_repeat_without_manual_seed():
    import subprocess
    import sys

    code = "import tinygrad_mnist as t; print(t.randn(3).tolist(), t.Generator().initial_seed())"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and "67280421310721" in runs[0]  # torch's default seed


def test_multinomial_and_normal():
    g = tg.Generator().manual_seed(0)
    draws = tg.multinomial(tg.tensor([0.0, 1.0, 3.0]), 4000, replacement=True, generator=g)
    counts = np.bincount(draws.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 4000 - 0.75) < 0.03
    rows = tg.multinomial(tg.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]), 2)
    assert rows.shape == (2, 2) and all(len(set(r)) == 2 for r in rows.tolist())
    with pytest.raises(ValueError, match="without replacement"):
        tg.multinomial(tg.tensor([0.0, 1.0]), 2)
    x = tg.normal(2.0, 0.5, size=(20000,))
    assert abs(x.mean().item() - 2.0) < 0.02 and abs(x.std().item() - 0.5) < 0.02
    assert tg.normal(tg.zeros(3), tg.ones(3)).shape == (3,)


# ---------------------------------------------------------------- math, vs NumPy and gradcheck
UNARY = {
    "abs": np.abs, "sin": np.sin, "cos": np.cos, "sinh": np.sinh, "cosh": np.cosh,
    "log1p": np.log1p, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt, "tanh": np.tanh,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math_forward_and_gradient(name, backend_name):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 2.0, (3, 17)) * (
        1 if name in ("log1p", "log10", "sqrt") else rng.choice([-1, 1], (3, 17))
    )
    np.testing.assert_allclose(
        getattr(tg, name)(Tensor(x, dtype=np.float64)).numpy(), UNARY[name](x), rtol=1e-12
    )
    assert getattr(Tensor(x), name)().dtype == np.float32
    gradcheck(lambda t: getattr(t, name)(), [x])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: tg.maximum(a, b), lambda a, b: tg.minimum(a, b), lambda a, b: tg.max(a, b),
        lambda a, b: tg.where(a > b, a, b * 2), lambda a, b: a.std(), lambda a, b: a.var(1),
        lambda a, b: a.std(0, keepdim=True), lambda a, b: tg.norm(a), lambda a, b: a.norm(dim=1),
        lambda a, b: a.repeat(2, 1, 3), lambda a, b: tg.mm(a, b.t()), lambda a, b: a.swapaxes(0, 1),
        lambda a, b: tg.bmm(a.reshape(1, 3, 5), b.reshape(1, 5, 3)), lambda a, b: a.t(),
        lambda a, b: tg.stack(tg.meshgrid(a[0], b[1]), 0), lambda a, b: a.norm(1),
    ],
)  # fmt: skip
def test_composite_math_gradients(fn, backend_name):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    gradcheck(fn, [a, b])


@needs_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda M, x: M.maximum(x, x * 0.5), lambda M, x: M.minimum(x, -x),
        lambda M, x: M.where(x > 0, x, M.zeros_like(x)), lambda M, x: x.std(), lambda M, x: x.var(0),
        lambda M, x: x.std(1, unbiased=False), lambda M, x: M.norm(x), lambda M, x: x.repeat(2, 3),
        lambda M, x: M.max(x, 1).values, lambda M, x: M.max(x, 0)[1], lambda M, x: M.argmax(x),
        lambda M, x: x.sum(axis=1, keepdims=True), lambda M, x: x.mean(axis=0),
        lambda M, x: M.clamp(x, min=0), lambda M, x: x.clamp(max=0.1), lambda M, x: M.abs(x),
        lambda M, x: M.sinh(x),
        lambda M, x: M.cosh(x),
        lambda M, x: M.sin(x),
        lambda M, x: M.cos(x),
        lambda M, x: x.swapaxes(0, 1),
        lambda M, x: M.dot(x[0], x[1]),
        lambda M, x: M.mv(x, x[0]),
        lambda M, x: M.bmm(x.reshape(1, 4, 3), x.reshape(1, 3, 4)), lambda M, x: M.log1p(M.abs(x)), lambda M, x: M.log10(M.abs(x) + 1),
        lambda M, x: M.cat([x, x], 1), lambda M, x: M.stack((x, x)), lambda M, x: M.mm(x, x.t()),
        lambda M, x: M.matmul(x, x.T), lambda M, x: (x > 0).sum(), lambda M, x: (x == x).sum(1),
    ],
)  # fmt: skip
def test_math_matches_torch(call, backend_name):
    x_np = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    xo, xt = tg.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    ours, theirs = call(tg, xo), call(torch, xt)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert ours.requires_grad == theirs.requires_grad
    if theirs.requires_grad:  # and the same gradients
        r = np.random.default_rng(3).normal(size=theirs.shape).astype(np.float32)
        (ours * tg.tensor(r)).sum().backward()
        (theirs * torch.tensor(r)).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_integer_reductions_and_arithmetic_stay_integer():
    a, b = tg.tensor([1, 2, 3]), tg.tensor([1, 0, 3])
    count = (a == b).sum()
    assert count.dtype == np.int64 and count.item() == 2
    assert (
        (a * 2).dtype == np.int64
        and (a + b).tolist() == [2, 2, 6]
        and (1 - a).tolist() == [0, -1, -2]
    )
    assert (a // 2).tolist() == [0, 1, 1] and (a % 2).tolist() == [1, 0, 1]
    assert (a / 2).dtype == np.float32  # true division gives floats, as in torch
    assert (a + 0.5).dtype == np.float32
    assert (~(a > 1)).tolist() == [True, False, False]
    assert ((a > 1) & (b > 0)).tolist() == [False, False, True]
    assert tg.where(a > 1, a, 0).dtype == np.int64


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="at least one"):
        tg.tensor([1.0]).clamp()
    with pytest.raises(ValueError, match="at least one"):
        tg.clamp(tg.tensor([1.0]), None, None)


def test_unknown_keyword_is_a_clear_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'dims'"):
        tg.tensor([1.0]).sum(dims=0)


# ---------------------------------------------------------------- indexing
@pytest.mark.parametrize(
    "index",
    [
        lambda i: (i,), lambda i: (i.tolist(),), lambda i: (i > 1,), lambda i: (slice(None), i),
        lambda i: (1, slice(None), i), lambda i: (i, 0), lambda i: (Ellipsis, i),
    ],
)  # fmt: skip
def test_indexing_integer_tensors_on_both_backends(index, backend_name):
    x = np.arange(3 * 3 * 3).reshape(3, 3, 3)
    i = np.array([0, 2, 1])
    got = tg.tensor(x)[index(tg.tensor(i))]
    assert got.dtype == np.int64
    # torch's rule for an int among index arrays: x[1, :, i] is x[1][:, i]
    want = x[1][:, i] if isinstance(index(i)[0], int) else x[index(i)]
    np.testing.assert_array_equal(got.numpy(), want)
    if torch is not None:
        np.testing.assert_array_equal(got.numpy(), torch.tensor(x)[index(torch.tensor(i))].numpy())


@needs_torch
@pytest.mark.parametrize("idx_shape", [(5, 1, 1, 5, 1, 1), (2, 2), (3,)])
def test_ints_among_index_arrays_follow_torch(idx_shape, backend_name):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 5, 3, 4))
    i = np.random.default_rng(1).integers(0, 5, idx_shape)
    want = torch.tensor(x)[1, :, 3:11:2, torch.tensor(i), 0:2]
    got = tg.tensor(x)[1, :, 3:11:2, tg.tensor(i), 0:2]
    assert got.shape == tuple(want.shape)  # not NumPy's (the index dims first)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    # and the gradient goes back to the picked places
    xt = tg.tensor(x, requires_grad=True)
    xt[1, :, 3:11:2, tg.tensor(i), 0:2].sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tx[1, :, 3:11:2, torch.tensor(i), 0:2].sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), tx.grad.numpy())


def test_item_assignment(backend_name):
    x = tg.ones(3, 20)
    x[:, :10] *= 0
    assert x.sum().item() == 30 and x[0, :10].sum().item() == 0
    x[tg.tensor([0, 2])] = 5.0
    assert x[0].tolist() == [5.0] * 20 and x[1, 10].item() == 1
    x[x > 4] = -1
    assert (x == -1).sum().item() == 40
    y = tg.zeros(4, dtype=tg.int64)
    y[1] = 7
    y[tg.tensor([2, 3])] = tg.tensor([8, 9])
    assert y.tolist() == [0, 7, 8, 9]
    z = tg.zeros(2, 3, 4)
    z[1, :, tg.tensor([0, 1])] = tg.ones(3, 2)  # torch's layout: (3, 2)
    assert z.sum().item() == 6


def test_item_assignment_and_grad():
    W = tg.zeros(2, 2, requires_grad=True)
    with no_grad():
        W[0] += 1
    assert W.tolist() == [[1, 1], [0, 0]] and W.requires_grad and W.is_leaf
    with pytest.raises(RuntimeError, match="no_grad"):
        W[0] += 1
    assert W.tolist() == [[1, 1], [0, 0]]  # unchanged by the failed attempt
    v = W._version
    with no_grad():
        W[1, 1] = 3
    assert W._version > v
    with pytest.raises(RuntimeError, match="requires grad"):
        tg.zeros(2)[0] = tg.ones(1, requires_grad=True).sum()


# ---------------------------------------------------------------- protocols and printing
def test_format_index_and_small_methods():
    assert format(tg.tensor([3.14159]), "+.2f") == "+3.14" and f"{tg.tensor(2.5):.1f}" == "2.5"
    assert ["a", "b", "c"][tg.tensor(1)] == "b" and list(range(tg.tensor(3))) == [0, 1, 2]
    with pytest.raises(TypeError, match="integer"):
        ["a"][tg.tensor(0.0)]
    assert tg.zeros(2, 3).nelement() == 6 and tg.numel(tg.zeros(4)) == 4


@needs_torch
@pytest.mark.parametrize(
    "data",
    [[[1.0, 2.5], [3.0, 4.0]], [1, 2], 3.5, [True, False], [1e-5, 1e5], [0.1234567], [], [1.0, 2.0]],
)  # fmt: skip
def test_str_prints_like_torch(data):
    assert str(tg.tensor(data)) == str(torch.tensor(data))
    assert str(tg.tensor(data, dtype=tg.float64)) == str(torch.tensor(data, dtype=torch.float64))
    if isinstance(data, list) and data and isinstance(data[0], float):
        assert str(tg.tensor(data, requires_grad=True)) == str(
            torch.tensor(data, requires_grad=True)
        )
