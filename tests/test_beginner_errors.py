"""A beginner's common mistakes each get one sentence that says what to do, as in torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_mnist import nn
from tinygrad_mnist.autograd.grad_mode import no_grad
from tinygrad_mnist.nn import functional as F
from tinygrad_mnist.tensors.tensor import Tensor


# ------------------------------------------------------------ model(numpy_array)
@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MLP([4, 3, 2]),
        lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), fuse=False),
        lambda: nn.Linear(4, 3),
        lambda: nn.Sigmoid(),
    ],
    ids=["MLP", "Sequential", "Linear", "Sigmoid"],
)
@pytest.mark.parametrize(
    "x",
    [np.ones((2, 4), np.float32), np.ones((2, 4)), [[1.0, 2.0, 3.0, 4.0]]],
    ids=["float32", "float64", "list"],
)
def test_a_numpy_array_into_a_model_says_wrap_it_in_a_tensor(make, x):
    model = make()
    with pytest.raises(TypeError) as info:
        model(x)
    message = str(info.value)
    assert "Tensor(x)" in message and type(x).__name__ in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_the_wrapped_array_works():
    model = nn.MLP([4, 3, 2], seed=0)
    x = np.ones((2, 4))
    assert model(Tensor(x)).shape == (2, 2)


def test_a_module_of_ones_own_may_still_take_arrays():
    class Scale(nn.Module):
        def forward(self, x):
            return Tensor(np.asarray(x) * 2)

    assert Scale()(np.ones(3)).tolist() == [2.0, 2.0, 2.0]


def test_loss_modules_still_take_numpy_labels():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, np.array([0, 2]))
    assert loss.item() == pytest.approx(np.log(3))


# ------------------------------------------------------------ .grad of a non-leaf
def two_layers():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((5, 4)))
    w1 = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w2 = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    h2 = (x @ w1).relu()
    loss = (h2 @ w2).sum()
    return w1, h2, loss


def test_grad_of_a_non_leaf_warns_and_names_retain_grad():
    w1, h2, loss = two_layers()
    loss.backward()
    with pytest.warns(UserWarning, match=r"\.retain_grad\(\)") as record:
        assert h2.grad is None
    assert len(record) == 1
    with pytest.warns(UserWarning, match="non-leaf"):  # every access, as in torch
        h2.grad  # noqa: B018


def test_no_warning_for_leaves_or_retained_grads():
    w1, h2, loss = two_layers()
    h2.retain_grad()
    loss.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert w1.grad is not None and h2.grad is not None
        assert Tensor(np.ones(2)).grad is None  # a leaf without a gradient: no warning


def test_a_parameter_updated_out_of_place_is_explained():
    """W = W - lr * W.grad outside no_grad makes W a non-leaf; after the next backward its
    .grad is None. The warning says how to update it so that it stays a leaf."""
    rng = np.random.default_rng(1)
    x, y = Tensor(rng.standard_normal((8, 4))), Tensor(rng.integers(0, 3, 8))
    W = Tensor(rng.standard_normal((4, 3)) * 0.1, requires_grad=True)
    F.cross_entropy(x @ W, y).backward()
    W = W - 0.1 * W.grad  # the mistake: W is now the output of an op
    assert not W.is_leaf
    F.cross_entropy(x @ W, y).backward()
    with pytest.warns(UserWarning) as record:
        grad = W.grad
    assert grad is None
    message = str(record[0].message)
    assert "W = W - lr * W.grad" in message and "with no_grad():" in message
    assert "W -= lr * W.grad" in message

    # the fix the message gives keeps W a leaf with a gradient
    W = Tensor(rng.standard_normal((4, 3)) * 0.1, requires_grad=True)
    for _ in range(2):
        W.grad = None
        F.cross_entropy(x @ W, y).backward()
        with no_grad():
            W -= 0.1 * W.grad
    assert W.is_leaf and W.grad is not None
