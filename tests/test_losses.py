"""Every loss option against torch: values and gradients, float32 and float64, both backends.

Hand-checked values at the end run without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, gradcheck, nn

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # torch is a test oracle only
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
DTYPES = ["float32", "float64"]
rng = np.random.default_rng(7)
N, C = 6, 4


def _td(dtype):
    return {"float32": torch.float32, "float64": torch.float64}[dtype]


def run_both(ours_fn, torch_fn, x, extra, dtype, target_grad=False):
    """ours_fn(Tensor x, *extra) vs torch_fn(torch x, *extra): values and d/dx (and d/dtarget
    when target_grad)."""
    rtol = 2e-5 if dtype == "float32" else 1e-10
    xo = Tensor(x, dtype=dtype, requires_grad=True)
    xt = torch.tensor(x, dtype=_td(dtype), requires_grad=True)
    eo, et = list(extra), list(extra)
    if target_grad:
        eo[0] = Tensor(extra[0], dtype=dtype, requires_grad=True)
        et[0] = torch.tensor(extra[0], dtype=_td(dtype), requires_grad=True)
    yo, yt = ours_fn(xo, *eo), torch_fn(xt, *et)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=rtol, atol=rtol)
    w = rng.standard_normal(yo.shape)
    (yo * w).sum().backward()
    (yt * torch.tensor(w, dtype=yt.dtype)).sum().backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=rtol, atol=rtol)
    if target_grad:
        np.testing.assert_allclose(eo[0].grad.data, et[0].grad.numpy(), rtol=rtol, atol=rtol)


def _t(a, torch_side, dtype=None):
    """An option array as the side expects it (weights in the inputs' dtype)."""
    if a is None:
        return None
    if torch_side:
        return torch.tensor(a) if dtype is None else torch.tensor(a, dtype=_td(dtype))
    return a if dtype is None else Tensor(a, dtype=dtype)


LABELS = rng.integers(0, C, N)
LABELS_IGNORED = np.where(np.arange(N) % 3 == 0, -100, LABELS)
LABELS_OTHER_IGNORE = np.where(np.arange(N) % 2 == 0, 1, LABELS)
WEIGHT = rng.uniform(0.5, 2.0, C)
CE_OPTIONS = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=WEIGHT),
    dict(weight=WEIGHT, reduction="sum"),
    dict(weight=WEIGHT, reduction="none"),
    dict(labels=LABELS_IGNORED),
    dict(labels=LABELS_IGNORED, weight=WEIGHT),
    dict(labels=LABELS_OTHER_IGNORE, ignore_index=1, reduction="none"),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.2, weight=WEIGHT),
    dict(label_smoothing=0.3, labels=LABELS_IGNORED, reduction="sum"),
    dict(label_smoothing=0.15, labels=LABELS_IGNORED, weight=WEIGHT),
    dict(label_smoothing=0.1, reduction="none", weight=WEIGHT),
]


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "opts", CE_OPTIONS, ids=[str(sorted(o)) + str(i) for i, o in enumerate(CE_OPTIONS)]
)
def test_cross_entropy_options_match_torch(backend_name, opts, dtype):
    opts = dict(opts)
    labels = opts.pop("labels", LABELS)
    w = opts.pop("weight", None)
    x = rng.standard_normal((N, C)) * 3
    run_both(
        lambda z, y: F.cross_entropy(z, y, weight=_t(w, False, dtype), **opts),
        lambda z, y: TF.cross_entropy(z, torch.tensor(y), weight=_t(w, True, dtype), **opts),
        x, [labels], dtype,
    )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("with_weight", [False, True])
def test_cross_entropy_soft_targets_match_torch(
    backend_name, reduction, smoothing, with_weight, dtype
):
    x = rng.standard_normal((N, C))
    p = rng.uniform(0, 1, (N, C))
    p /= p.sum(1, keepdims=True)
    w = WEIGHT if with_weight else None
    opts = dict(reduction=reduction, label_smoothing=smoothing)
    run_both(
        lambda z, t: F.cross_entropy(z, t, weight=_t(w, False, dtype), **opts),
        lambda z, t: TF.cross_entropy(z, t, weight=_t(w, True, dtype), **opts),
        x, [p], dtype, target_grad=True,
    )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_on_nd_inputs_match_torch(backend_name, reduction, dtype):
    x = rng.standard_normal((3, C, 2, 5))
    y = rng.integers(0, C, (3, 2, 5))
    y[0, 1, :2] = -100
    for ours, theirs, pre in [
        (F.cross_entropy, TF.cross_entropy, lambda z: z),
        (F.nll_loss, TF.nll_loss, lambda z: z.log_softmax(1)),
    ]:
        run_both(
            lambda z, t, f=ours, pre=pre: f(
                pre(z), t, weight=_t(WEIGHT, False, dtype), reduction=reduction
            ),
            lambda z, t, f=theirs, pre=pre: f(
                pre(z), torch.tensor(t), weight=_t(WEIGHT, True, dtype), reduction=reduction
            ),
            x, [y], dtype,
        )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opts", [dict(), dict(reduction="sum"), dict(reduction="none"),
                                  dict(weight=WEIGHT), dict(ignore_index=2)])  # fmt: skip
def test_nll_loss_matches_torch(backend_name, opts, dtype):
    opts = dict(opts)
    w = opts.pop("weight", None)
    x = rng.standard_normal((N, C))
    run_both(
        lambda z, y: F.nll_loss(z.log_softmax(1), y, weight=_t(w, False, dtype), **opts),
        lambda z, y: TF.nll_loss(z.log_softmax(1), torch.tensor(y), weight=_t(w, True, dtype),
                                 **opts),
        x, [LABELS], dtype,
    )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_bce_match_torch(backend_name, reduction, dtype):
    x = rng.standard_normal((N, 3))
    t = rng.uniform(0, 1, (N, 3))
    run_both(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction),
        x, [t], dtype, target_grad=True,
    )  # fmt: skip
    p = rng.uniform(0.05, 0.95, (N, 3))
    w = rng.uniform(0.5, 2, 3)
    run_both(
        lambda a, b: F.binary_cross_entropy(a, b, weight=Tensor(w, dtype=dtype), reduction=reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, weight=torch.tensor(w, dtype=_td(dtype)),
                                             reduction=reduction),
        p, [t], dtype, target_grad=True,
    )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, "vector"])
def test_bce_with_logits_matches_torch(backend_name, reduction, pos_weight, dtype):
    x = rng.standard_normal((N, 3)) * 4
    x[0] = [80.0, -80.0, 0.0]  # far out and exactly 0: no overflow, the right slope at 0
    t = rng.uniform(0, 1, (N, 3))
    pw = rng.uniform(0.5, 3, 3) if pos_weight else None
    w = rng.uniform(0.5, 2, 3)
    run_both(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=Tensor(w, dtype=dtype), reduction=reduction,
            pos_weight=None if pw is None else Tensor(pw, dtype=dtype)),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=torch.tensor(w, dtype=_td(dtype)), reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw, dtype=_td(dtype))),
        x, [t], dtype, target_grad=True,
    )  # fmt: skip


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_modules_match_torch(backend_name, dtype):
    x = rng.standard_normal((N, C))
    t = rng.uniform(0, 1, (N, C))
    pairs = [
        (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1), LABELS),
        (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum"), LABELS),
        (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), t),
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), t),
        (nn.BCELoss(), torch.nn.BCELoss(), t),
    ]  # fmt: skip
    for ours, theirs, target in pairs:
        pre = (lambda z: z.sigmoid()) if isinstance(ours, nn.BCELoss) else (lambda z: z)
        tt = (
            torch.tensor(target)
            if target.dtype.kind == "i"
            else torch.tensor(target, dtype=_td(dtype))
        )
        to = target if target.dtype.kind == "i" else Tensor(target, dtype=dtype)
        run_both(
            lambda z, _, f=ours, pre=pre, to=to: f(pre(z), to),
            lambda z, _, f=theirs, pre=pre, tt=tt: f(pre(z), tt),
            x, [None], dtype,
        )  # fmt: skip


# ------------------------------------------------------------------ without torch
LOSS_GRADCHECKS = [
    ("ce_weight_ignore_smooth", lambda z: F.cross_entropy(
        z, LABELS_IGNORED, weight=WEIGHT, label_smoothing=0.1)),
    ("ce_none", lambda z: F.cross_entropy(z, LABELS, reduction="none")),
    ("ce_soft", lambda z: F.cross_entropy(z, np.full((N, C), 1 / C))),
    ("nll_sum", lambda z: F.nll_loss(z, LABELS, reduction="sum")),
    ("bce_logits_pw", lambda z: F.binary_cross_entropy_with_logits(
        z, np.full((N, C), 0.3), pos_weight=np.array([1.0, 2.0, 0.5, 3.0]))),
]  # fmt: skip


@pytest.mark.parametrize("name,fn", LOSS_GRADCHECKS, ids=[c[0] for c in LOSS_GRADCHECKS])
def test_loss_options_by_finite_differences(backend_name, name, fn):
    assert gradcheck(fn, [rng.standard_normal((N, C))])


def test_loss_options_by_hand(backend_name):
    z = Tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    ln2 = np.log(2)
    assert F.cross_entropy(z, [0, 1]).item() == pytest.approx(ln2)
    assert F.cross_entropy(z, [0, 1], reduction="sum").item() == pytest.approx(2 * ln2)
    assert F.cross_entropy(z, [0, 1], reduction="none").tolist() == pytest.approx([ln2, ln2])
    assert F.cross_entropy(z, [0, -100]).item() == pytest.approx(ln2)  # one counted sample
    zz = Tensor([[2.0, 0.0]])
    # weight: (w_y * loss) / w_y for one sample: the weight cancels
    assert F.cross_entropy(zz, [1], weight=[1.0, 3.0]).item() == pytest.approx(np.log1p(np.e**2))
    # smoothing 1 at C = 2: the target is (0.5, 0.5): loss = -(log p0 + log p1) / 2
    p = np.exp([2.0, 0.0]) / np.exp([2.0, 0.0]).sum()
    want = -np.log(p).mean()
    assert F.cross_entropy(zz, [0], label_smoothing=1.0).item() == pytest.approx(want)
    assert F.cross_entropy(zz, [[0.5, 0.5]]).item() == pytest.approx(want)  # soft target
    x = Tensor([0.0, 100.0, -100.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, [1.0, 1.0, 1.0], reduction="none")
    assert loss.tolist() == pytest.approx([ln2, 0.0, 100.0])  # no overflow at +-100
    loss.sum().backward()
    assert x.grad.tolist() == pytest.approx([-0.5, 0.0, -1.0])  # sigmoid(x) - t
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="labels must lie"):
        F.nll_loss(Tensor(np.zeros((2, 3))), [0, 3])
    assert np.isnan(F.cross_entropy(z, [-100, -100], weight=[1.0, 1.0]).item())  # 0/0, as torch


@needs_torch
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_int64_label_tensors_with_ignored_labels_match_torch(backend_name, ignore_index):
    """The training loop's call (int64 label Tensor, no options) takes the fused op; a label
    equal to ignore_index, inside [0, C) or not, must still be ignored as torch does."""
    z = rng.standard_normal((N, C))
    labels = np.array([0, ignore_index, 3, 1, ignore_index, 2])
    zo = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(zo, Tensor(labels, dtype=np.int64), ignore_index=ignore_index)
    loss.backward()
    zt = torch.tensor(z, dtype=torch.float32, requires_grad=True)
    want = TF.cross_entropy(zt, torch.from_numpy(labels), ignore_index=ignore_index)
    want.backward()
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    np.testing.assert_allclose(zo.grad.data, zt.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert np.all(zo.grad.data[labels == ignore_index] == 0)  # ignored rows get no gradient


def test_int64_label_tensor_out_of_range_is_a_clear_error(backend_name):
    z = Tensor(rng.standard_normal((3, C)), requires_grad=True)
    with pytest.raises(ValueError, match="labels must lie"):
        F.cross_entropy(z, Tensor(np.array([0, C, 1]), dtype=np.int64))
