"""The optimizers' one-call path (foreach=True, the default) against the plain per-parameter
loop and against torch.optim: the same numbers, and PyTorch's rules for groups, parameters
without a gradient, zero_grad, assigned gradients, in-place changes, state_dict and
version counters."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_mnist import Tensor, backends, no_grad
from tinygrad_mnist import nn as tnn
from tinygrad_mnist.nn import functional as F
from tinygrad_mnist.optim import SGD, Adam

SGD_CASES = [
    {"momentum": 0.0},
    {"momentum": 0.9},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    {"momentum": 0.5, "weight_decay": 0.1},
]
ADAM_CASES = [{}, {"weight_decay": 0.01, "betas": (0.8, 0.9)}]
OPTIMIZERS = [(SGD, {"lr": 0.1, **c}) for c in SGD_CASES] + [
    (Adam, {"lr": 0.01, **c}) for c in ADAM_CASES
]
IDS = [f"{cls.__name__}-{kw}" for cls, kw in OPTIMIZERS]


def make_model(seed: int = 0) -> tnn.MLP:
    return tnn.MLP([7, 5, 3], seed=seed)


def batch(step: int) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(100 + step)
    x = Tensor(rng.standard_normal((6, 7)))
    y = Tensor(rng.integers(0, 3, 6), dtype=np.int64)
    return x, y


def train(model: tnn.Module, opt, steps: int, first: int = 0) -> list[float]:
    losses = []
    for i in range(first, first + steps):
        x, y = batch(i)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=IDS)
def test_one_call_equals_the_per_parameter_loop_bit_for_bit(backend_name, cls, kw):
    a, b = make_model(), make_model()
    train(a, cls(a.parameters(), **kw), 4)
    train(b, cls(b.parameters(), foreach=False, **kw), 4)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    start = make_model().parameters()
    assert not np.array_equal(a.parameters()[0].data, start[0].data)  # it trained


def test_the_c_backend_updates_every_parameter_in_one_kernel_call():
    c = backends.load("c")
    table = c._KERNELS[np.dtype(np.float32)]
    model = make_model()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    calls = {"many": 0, "single": 0}
    many, single = table.sgd_step_many, table.sgd_step

    def count(key, fn):
        def wrapper(*args):
            calls[key] += 1
            return fn(*args)

        return wrapper

    table.sgd_step_many, table.sgd_step = count("many", many), count("single", single)
    try:
        with backends.backend("c"):
            train(model, opt, 2)
    finally:
        table.sgd_step_many, table.sgd_step = many, single
    assert calls == {"many": 2, "single": 0}  # 4 parameters, one call per step


# ---------------------------------------------------------------- against torch.optim
def torch_twin(model: tnn.MLP):
    torch = pytest.importorskip("torch")
    layers = []
    for m in model._modules:
        if isinstance(m, tnn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.weight.data.copy()))
                lin.bias.copy_(torch.from_numpy(m.bias.data.copy()))
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    return torch, torch.nn.Sequential(*layers)


def torch_train(torch, model, opt, steps: int) -> list[float]:
    losses = []
    for i in range(steps):
        x, y = batch(i)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            model(torch.from_numpy(x.data)), torch.from_numpy(y.data)
        )
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=IDS)
def test_matches_torch_optim_with_two_param_groups(backend_name, cls, kw):
    """Two groups with different learning rates; five steps of training."""
    ours = make_model(seed=3)
    torch, theirs = torch_twin(ours)
    lin0, lin1 = ours[0], ours[2]
    groups = [
        {"params": [lin0.weight, lin0.bias]},
        {"params": [lin1.weight, lin1.bias], "lr": kw["lr"] / 4},
    ]
    opt = cls(groups, **kw)
    tkw = dict(kw)
    torch_opt = getattr(torch.optim, cls.__name__)(
        [
            {"params": [theirs[0].weight, theirs[0].bias]},
            {"params": [theirs[2].weight, theirs[2].bias], "lr": kw["lr"] / 4},
        ],
        **tkw,
    )
    ours_losses = train(ours, opt, 5)
    torch_losses = torch_train(torch, theirs, torch_opt, 5)
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=1e-5, atol=1e-6)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- PyTorch's rules
@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=IDS)
def test_parameters_without_a_gradient_are_skipped(backend_name, cls, kw):
    w = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    frozen = Tensor(np.full(4, 5.0, np.float32), requires_grad=True)
    b = Tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = cls([w, frozen, b], **kw)
    w.grad = np.full((2, 3), 0.5, np.float32)
    b.grad = np.full(2, -1.0, np.float32)
    opt.step()
    np.testing.assert_array_equal(frozen.data, np.full(4, 5.0, np.float32))
    assert frozen._version == 0 and w._version == 1 and b._version == 1
    assert np.all(w.data < 1) and np.all(b.data > 0)
    state = opt.buffers if cls is SGD else opt.m
    if state[1] is not None:
        np.testing.assert_array_equal(state[1], 0)  # its state did not move either


def test_zero_grad_set_to_none_and_to_zero(backend_name):
    model = make_model()
    opt = SGD(model.parameters(), lr=0.1)
    train(model, opt, 1)
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad(set_to_none=False)
    for p in model.parameters():
        np.testing.assert_array_equal(p.grad.data, 0)
    before = [p.data.copy() for p in model.parameters()]
    opt.step()  # zero gradients: a step that changes nothing (no weight decay, no momentum)
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)
    opt.zero_grad()  # set_to_none=True by default, as in PyTorch
    assert all(p.grad is None for p in model.parameters())
    opt.step()
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)


def test_gradients_kept_by_the_user_are_not_changed_by_later_steps(backend_name):
    """With set_to_none, each backward makes new .grad tensors: one kept from an earlier step
    keeps its values (as in PyTorch)."""
    model = make_model()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, opt, 1)
    kept = model.parameters()[0].grad
    values = kept.data.copy()
    train(model, opt, 2, first=1)
    np.testing.assert_array_equal(kept.data, values)
    assert model.parameters()[0].grad is not kept


@pytest.mark.parametrize("foreach", [True, False])
def test_assigned_gradients_and_in_place_changes_under_no_grad(backend_name, foreach):
    p = Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    q = Tensor(np.array([[1.0, -1.0]], np.float32), requires_grad=True)
    opt = SGD([p, q], lr=0.5, momentum=0.5, foreach=foreach)
    p.grad = np.array([1.0, 1.0, 1.0], np.float32)  # an array: copied into a Tensor
    q.grad = Tensor(np.array([[2.0, 0.0]], np.float32))  # a Tensor
    with no_grad():
        p -= 1.0  # in place, as a PyTorch user may do between steps
        q.data[...] = [[10.0, 10.0]]
    opt.step()
    np.testing.assert_allclose(p.data, [-0.5, 0.5, 1.5])  # (p - 1) - 0.5 * 1
    np.testing.assert_allclose(q.data, [[9.0, 10.0]])
    with no_grad():
        p.mul_(0.0)
    opt.step()  # buf = 0.5 buf + g = 1.5: p = 0 - 0.5 * 1.5
    np.testing.assert_allclose(p.data, [-0.75, -0.75, -0.75])


def test_a_gradient_that_is_the_parameter_itself_is_refused_on_c():
    p = Tensor(np.ones(3, np.float32), requires_grad=True)
    q = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = SGD([p, q], lr=0.1)
    p.grad = Tensor(np.ones(3, np.float32))
    q.grad = q.detach()  # shares q's memory: the update would read what it overwrites
    with backends.backend("c"), pytest.raises(ValueError, match="overlap"):
        opt.step()


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=IDS)
def test_state_dict_round_trip_resumes_exactly(backend_name, cls, kw):
    a = make_model()
    opt_a = cls(a.parameters(), **kw)
    train(a, opt_a, 3)
    b = make_model(seed=9)
    b.load_state_dict(a.state_dict())
    opt_b = cls(b.parameters(), **kw)
    opt_b.load_state_dict(opt_a.state_dict())
    train(a, opt_a, 3, first=3)
    train(b, opt_b, 3, first=3)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_graph_built_before_the_step_cannot_backward(backend_name):
    model = make_model()
    opt = SGD(model.parameters(), lr=0.1)
    x, y = batch(0)
    loss = F.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    opt.step()  # changes the weights the graph saved
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_mixed_dtypes_in_one_group_take_the_per_parameter_loop(backend_name):
    p32 = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    p64 = Tensor(np.array([1.0, 2.0]), requires_grad=True, dtype=np.float64)
    opt = SGD([p32, p64], lr=0.1, momentum=0.9)
    for _ in range(2):
        p32.grad = np.array([1.0, -1.0], np.float32)
        p64.grad = np.array([1.0, -1.0])
        opt.step()
    # buf 1 then 1.9: p = p - 0.1 * (1 + 1.9) * sign
    np.testing.assert_allclose(p32.data, [0.71, 2.29], rtol=1e-6)
    np.testing.assert_allclose(p64.data, [0.71, 2.29], rtol=1e-12)
    assert p64.dtype == np.float64 and opt.buffers[1].dtype == np.float64
