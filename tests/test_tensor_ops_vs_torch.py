"""What a PyTorch user writes, checked against torch itself (values and gradients).

Each case is one lambda that runs unchanged on our Tensor and on torch.Tensor (`M` is the
module: tinygrad_mnist or torch), in float32 and float64, on both backends. Where torch is not
installed those comparisons skip, and the hand-checked values at the end still run. Every new
op is also checked by finite differences in float64 (gradcheck).
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, gradcheck, nn

try:
    import torch
except ImportError:  # torch is a test oracle only
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _our_tensor(values):
    arr = np.asarray(values)
    return Tensor(arr, dtype=arr.dtype if arr.dtype.kind in "ib" else None)


# the torch functions the cases call, in our spelling (torch.tensor([0, 2]) is int64)
OURS = types.SimpleNamespace(
    stack=tg.stack,
    cat=tg.cat,
    arange=Tensor.arange,
    tensor=_our_tensor,
    nn=types.SimpleNamespace(functional=F),
)
DTYPES = ["float32", "float64"]
rng = np.random.default_rng(12)


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def with_ties(*shape: int) -> np.ndarray:
    return rng.integers(-2, 3, shape).astype(np.float64)  # many equal values


def _torch_dtype(dtype: str):
    return {"float32": torch.float32, "float64": torch.float64}[dtype]


def compare_with_torch(fn, arrays, dtype, rtol=None, grad=True):
    """fn on our tensors and on torch tensors: the same values, and the same gradients of
    sum(out * w) for a random w."""
    rtol = rtol or (1e-5 if dtype == "float32" else 1e-10)
    ours = [Tensor(a, dtype=dtype, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, dtype=_torch_dtype(dtype), requires_grad=grad) for a in arrays]
    yo, yt = fn(ours, OURS), fn(theirs, torch)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=rtol, atol=rtol)
    if not grad or not yt.requires_grad:
        return
    w = rng.standard_normal(yo.shape)
    (yo * w).sum().backward()
    (yt * torch.tensor(w, dtype=yt.dtype)).sum().backward()
    for o, t in zip(ours, theirs, strict=True):
        want = np.zeros(o.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(o.shape) if o.grad is None else o.grad.data
        assert isinstance(o.grad, (Tensor, type(None)))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


# (name, fn(xs, M), input arrays)
CASES = [
    ("max_dim", lambda x, M: x[0].max(1).values, [randn(4, 5)]),
    ("max_dim_keep", lambda x, M: x[0].max(dim=-1, keepdim=True)[0], [randn(3, 17)]),
    ("max_dim0_3d", lambda x, M: x[0].max(0).values, [randn(3, 4, 5)]),
    ("max_dim_ties", lambda x, M: x[0].max(1).values, [with_ties(6, 7)]),
    ("max_all", lambda x, M: x[0].max(), [randn(3, 4)]),
    ("max_all_ties", lambda x, M: x[0].max(), [np.array([[1.0, 3.0], [3.0, 0.0]])]),
    ("min_dim", lambda x, M: x[0].min(1).values, [randn(4, 5)]),
    ("min_all", lambda x, M: x[0].min(), [randn(6)]),
    ("max_indices", lambda x, M: x[0].max(1).indices.to(x[0].dtype), [with_ties(5, 6)]),
    ("argmax", lambda x, M: x[0].argmax(1).to(x[0].dtype), [with_ties(5, 6)]),
    ("argmax_keep", lambda x, M: x[0].argmax(0, keepdim=True).to(x[0].dtype), [randn(5, 6)]),
    ("argmax_flat", lambda x, M: x[0].argmax().to(x[0].dtype), [randn(3, 4)]),
    ("argmin", lambda x, M: x[0].argmin(-1).to(x[0].dtype), [with_ties(3, 129)]),
    ("squeeze", lambda x, M: x[0].squeeze() * 2, [randn(1, 3, 1, 4)]),
    ("squeeze_dim", lambda x, M: x[0].squeeze(2) * 2, [randn(1, 3, 1, 4)]),
    ("squeeze_noop", lambda x, M: x[0].squeeze(1) * 2, [randn(1, 3, 1, 4)]),
    ("unsqueeze", lambda x, M: x[0].unsqueeze(1) * 2, [randn(3, 4)]),
    ("unsqueeze_neg", lambda x, M: x[0].unsqueeze(-1) * 2, [randn(3, 4)]),
    ("expand", lambda x, M: x[0].expand(2, 3, 4) * 2, [randn(3, 1)]),
    ("expand_keep", lambda x, M: x[0].expand(-1, 5) * 2, [randn(3, 1)]),
    ("stack0", lambda x, M: M.stack([x[0], x[1] * 2]), [randn(3, 4), randn(3, 4)]),
    ("stack_last", lambda x, M: M.stack([x[0], x[1]], dim=-1), [randn(3, 4), randn(3, 4)]),
    ("permute", lambda x, M: x[0].permute(2, 0, 1) * 2, [randn(2, 3, 4)]),
    ("contiguous", lambda x, M: x[0].T.contiguous() * 2, [randn(3, 4)]),
    ("gather_pairs", lambda x, M: x[0][M.arange(4), M.tensor([0, 2, 2, 1])], [randn(4, 3)]),
    ("gather_rows_repeat", lambda x, M: x[0][M.tensor([0, 0, 2, -1])], [randn(3, 5)]),
    ("gather_2d_index", lambda x, M: x[0][M.tensor([[1, 0], [1, 1]])], [randn(3, 2)]),
    ("gather_3d", lambda x, M: x[0][M.tensor([0, 1]), M.tensor([2, 2])], [randn(2, 3, 4)]),
    ("mask", lambda x, M: x[0][x[0] > 0], [randn(4, 5)]),
    ("slice_then_index", lambda x, M: x[0][1:, M.tensor([0, 2])], [randn(3, 4)]),
    ("pow_tensor", lambda x, M: x[0] ** x[1], [np.abs(randn(5)) + 0.1, randn(5)]),
    ("pow_neg_base", lambda x, M: x[0] ** 3, [randn(7)]),
    ("rpow_neg_base", lambda x, M: (-2) ** x[0], [np.array([-2.0, -1, 0, 1, 2, 3])]),
    ("rpow", lambda x, M: 2.0 ** x[0], [randn(6)]),
    ("pow_bcast", lambda x, M: x[0] ** x[1], [np.abs(randn(3, 1)) + 0.1, randn(4)]),
    ("add_method", lambda x, M: x[0].add(x[1], alpha=2).sub(1.5).mul(x[1]), [randn(4), randn(4)]),
    ("div_neg_pow", lambda x, M: x[0].div(x[1]).neg().pow(2), [randn(4), randn(4) + 5]),
    ("sum_0d", lambda x, M: x[0].sum().sum(0), [randn(3)]),
    ("sum_0d_neg", lambda x, M: x[0].sum().sum(-1) * 3, [randn(3)]),
    ("softmax_0d", lambda x, M: x[0].sum().softmax(0), [randn(3)]),
    ("log_softmax_0d", lambda x, M: x[0].sum().log_softmax(-1), [randn(3)]),
    ("mean_empty", lambda x, M: x[0].mean(0), [np.zeros((0, 3))]),
    ("leaky_relu_slope", lambda x, M: M.nn.functional.leaky_relu(x[0], 0.01), [randn(9)]),
    ("leaky_relu_neg_slope", lambda x, M: M.nn.functional.leaky_relu(x[0], -0.5), [randn(9)]),
]


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(backend_name, name, fn, arrays, dtype):
    compare_with_torch(fn, arrays, dtype)


GRADCHECKS = [
    ("max_dim", lambda x: x.max(1).values, [randn(4, 5)]),
    ("min_dim_keep", lambda x: x.min(0, keepdim=True).values, [randn(3, 4, 2)]),
    ("max_all", lambda x: x.max(), [randn(3, 4)]),
    ("expand", lambda x: x.expand(4, 3, 2), [randn(3, 1)]),
    ("stack", lambda x, y: tg.stack([x, y * y], 1), [randn(2, 3), randn(2, 3)]),
    ("gather", lambda x: x[[0, 2, 2, 1], [1, 0, 0, 1]], [randn(3, 2)]),
    ("gather_rows", lambda x: x[np.array([[2, 0], [2, 2]])], [randn(3, 4)]),
    ("pow_tensor", lambda a, b: a**b, [np.abs(randn(6)) + 0.5, randn(6)]),
    (
        "pow_neg_base_int_exponents",
        lambda a: a ** Tensor([3.0, -2.0, 2.0], dtype="float64"),
        [-(np.abs(randn(3)) + 0.5)],
    ),
    ("rpow", lambda b: 3.0**b, [randn(4)]),
    ("pow_int_neg_base", lambda a: a**3 + a**-2, [randn(5) + 3]),
    ("squeeze_unsqueeze", lambda x: x.unsqueeze(0).squeeze(0).T.contiguous(), [randn(3, 4)]),
]


@pytest.mark.parametrize("name,fn,arrays", GRADCHECKS, ids=[c[0] for c in GRADCHECKS])
def test_new_ops_by_finite_differences(backend_name, name, fn, arrays):
    assert gradcheck(fn, arrays)


# ------------------------------------------------------------------ hand-checked values
def test_pow_of_negative_bases_and_zero_by_hand(backend_name):
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], requires_grad=True)
    y = (-2) ** x
    np.testing.assert_allclose(y.data, [0.25, -0.5, 1, -2, 4, -8])
    z = Tensor(0.0, requires_grad=True)
    out = z**0
    assert out.item() == 1.0  # 0 ** 0 = 1, not NaN
    out.backward()
    assert z.grad.item() == 0.0  # d/dx x^0 at 0 is 0, not NaN
    a, b = Tensor(0.0, requires_grad=True), Tensor(0.0, requires_grad=True)
    (a**b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.0, 0.0)
    c = Tensor([-2.0], requires_grad=True)
    (c ** Tensor([3.0])).sum().backward()
    assert c.grad.item() == 12.0  # 3 (-2)^2


def test_max_argmax_by_hand(backend_name):
    x = Tensor([[1.0, 5.0, 5.0], [7.0, 0.0, -1.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == np.int64
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]  # max(dim): to the first of the ties
    x.grad = None
    Tensor([[5.0, 5.0]]).max()  # no grad needed: fine
    y = Tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    y.max().backward()
    assert y.grad.tolist() == [[0, 0.5], [0.5, 0]]  # max(): the ties share it
    assert x.argmax().item() == 3 and x.argmin(dim=1).tolist() == [0, 2]
    assert x.max(1, keepdim=True).values.shape == (2, 1)
    assert x.min(0).values.tolist() == [1.0, 0.0, -1.0]
    nan = Tensor([[1.0, np.nan, 3.0]])
    assert nan.argmax(1).item() == 1 and np.isnan(nan.max(1).values.item())  # as torch
    with pytest.raises(ValueError, match="empty"):
        Tensor(np.zeros((2, 0))).max(1)
    with pytest.raises(IndexError, match="out of range"):
        x.max(2)
    zero_d = Tensor(3.0)
    assert zero_d.max(0).values.item() == 3.0 and zero_d.argmax(0).item() == 0


def test_shape_helpers_by_hand(backend_name):
    x = Tensor(np.arange(6.0).reshape(1, 2, 3))
    assert x.size() == (1, 2, 3) and x.size(1) == 2 and x.size(-1) == 3
    assert x.numel() == 6 and x.dim() == 3 and x.ndim == 3
    assert x.squeeze().shape == (2, 3) and x.squeeze(0).shape == (2, 3)
    assert x.squeeze(1).shape == (1, 2, 3) and x.unsqueeze(3).shape == (1, 2, 3, 1)
    assert x.expand(4, 2, 3).shape == (4, 2, 3) and x.expand(5, -1, -1, -1).shape == (5, 1, 2, 3)
    with pytest.raises(ValueError, match="expand"):
        x.expand(1, 3, 3)
    s = tg.stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], dim=1)
    assert s.tolist() == [[1, 3], [2, 4]]
    with pytest.raises(ValueError, match="one shape"):
        tg.stack([Tensor([1.0]), Tensor([1.0, 2.0])])
    t = x.reshape(2, 3).T
    assert not t.data.flags.c_contiguous and t.contiguous().data.flags.c_contiguous
    assert x.contiguous() is x
    assert Tensor(2.0).sum(0).item() == 2.0 and Tensor(2.0).softmax(-1).item() == 1.0
    assert Tensor(2.0).log_softmax(0).item() == 0.0
    assert np.isnan(Tensor(np.zeros((0, 3))).mean(0).data).all()
    assert Tensor(np.zeros((0, 3))).mean(0).shape == (3,)


def test_tensor_indexing_by_hand(backend_name):
    logp = Tensor([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]], requires_grad=True)
    y = Tensor([2, 0], dtype="int64")
    picked = logp[range(2), y]
    assert picked.tolist() == [-3.0, -4.0]
    (-picked.mean()).backward()
    assert logp.grad.tolist() == [[0, 0, -0.5], [-0.5, 0, 0]]
    w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    w[Tensor([0, 0, 2], dtype="int64")].sum().backward()  # an embedding lookup, repeated row
    assert w.grad.tolist() == [[2, 2], [0, 0], [1, 1]]
    assert logp[Tensor([True, False], dtype=bool)].shape == (1, 3)
    with pytest.raises(IndexError, match="out of bounds"):
        logp[range(2), Tensor([3, 0], dtype="int64")]
    with pytest.raises(IndexError, match="integer or bool"):
        logp[Tensor([0.0, 1.0])]


def test_linear_takes_1d_and_nd_inputs_like_torch(backend_name):
    lin = nn.Linear(4, 3, seed=0)
    x = randn(2, 5, 4)
    y = lin(Tensor(x))
    assert y.shape == (2, 5, 3)
    want = x @ lin.weight.data.T.astype(np.float64) + lin.bias.data
    np.testing.assert_allclose(y.data, want, rtol=1e-5, atol=1e-6)
    v = lin(Tensor(x[0, 0]))
    assert v.shape == (3,)
    np.testing.assert_allclose(v.data, want[0, 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="in_features=4"):
        lin(Tensor(np.ones((2, 2, 5))))
    with pytest.raises(ValueError, match="in_features=4"):
        lin(Tensor(np.ones((2, 5))))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_1d_and_nd_match_torch(backend_name, dtype):
    lin = nn.Linear(4, 3, seed=1, dtype=dtype)
    ref = torch.nn.Linear(4, 3).to(_torch_dtype(dtype))
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lin.weight.data))
        ref.bias.copy_(torch.tensor(lin.bias.data))
    for shape in [(4,), (2, 4), (2, 3, 4)]:
        x = randn(*shape)
        lin.zero_grad()
        ref.zero_grad()
        yo, yt = lin(Tensor(x, dtype=dtype)), ref(torch.tensor(x, dtype=_torch_dtype(dtype)))
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(lin.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-5)
        np.testing.assert_allclose(lin.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-5)


def test_leaky_relu_keeps_the_course_slope_and_takes_torchs(backend_name):
    x = Tensor([-10.0, 2.0])
    assert x.leaky_relu().tolist() == [-1.0, 2.0]  # the course's max(0.1 x, x)
    assert F.leaky_relu(x, negative_slope=0.01).tolist() == pytest.approx([-0.1, 2.0])
    assert nn.LeakyReLU(negative_slope=0.01)(x).tolist() == pytest.approx([-0.1, 2.0])
    assert x.leaky_relu(negative_slope=2.0).tolist() == [-20.0, 2.0]  # any slope, as torch
