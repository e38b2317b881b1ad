"""Modules, layers, optimizers and schedules, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_mnist import Tensor
from tinygrad_mnist.nn import MLP, Linear, Module, ReLU, Sequential, Tanh
from tinygrad_mnist.optim import SGD, Adam, CosineLR, StepLR


# ----------------------------------------------------------------------- Module
class TwoLayers(Module):
    def __init__(self) -> None:
        self.scale = Tensor([2.0], requires_grad=True)
        self.constant = Tensor([1.0])  # no requires_grad: not a parameter
        self.blocks = [Linear(3, 2, seed=0), Linear(2, 1, bias=False, seed=1)]
        self.head = Linear(1, 1, seed=2)


def test_named_parameters_in_attribute_order():
    m = TwoLayers()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "scale",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "head.weight",
        "head.bias",
    ]
    assert [p.shape for p in m.parameters()] == [(1,), (2, 3), (2,), (1, 2), (1, 1), (1,)]
    assert m.parameters()[1] is m.blocks[0].weight


def test_mlp_parameter_names():
    m = MLP([4, 3, 2], seed=0)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_state_dict_is_a_copy_and_round_trips():
    m = MLP([4, 3, 2], seed=0)
    state = m.state_dict()
    state["0.weight"][...] = 0  # changing the copy must not change the model
    assert np.any(m[0].weight.data != 0)

    other = MLP([4, 3, 2], seed=1)
    assert not np.array_equal(other[0].weight.data, m[0].weight.data)
    other.load_state_dict(m.state_dict())
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), other.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 4)))
    np.testing.assert_array_equal(m(x).data, other(x).data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("2.bias"), r"missing \['2.bias'\]"),
        (lambda s: s.update(extra=np.zeros(1, np.float32)), r"unexpected \['extra'\]"),
        (
            lambda s: s.update({"0.weight": np.zeros((4, 3), np.float32)}),
            r"0.weight has shape \(4, 3\)",
        ),
        (lambda s: s.update({"0.bias": np.zeros(3, np.float64)}), "0.bias has dtype float64"),
        (lambda s: s["2.weight"].__setitem__((0, 0), np.nan), "2.weight contains NaN or Inf"),
    ],
)
def test_load_state_dict_errors_leave_the_model_unchanged(change, message):
    m = MLP([4, 3, 2], seed=0)
    before = m.state_dict()
    bad = MLP([4, 3, 2], seed=5).state_dict()
    change(bad)
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(bad)
    for name, arr in m.state_dict().items():
        np.testing.assert_array_equal(arr, before[name])


# ----------------------------------------------------------------------- Linear init
def test_kaiming_init_bounds():
    layer = Linear(1000, 300, init="kaiming", activation="relu", seed=0)
    bound = math.sqrt(2) * math.sqrt(3 / 1000)  # gain(relu) * sqrt(3 / fan_in)
    w = layer.weight.data
    assert w.shape == (300, 1000) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # std of U(-b, b) is b/sqrt(3)
    b = layer.bias.data
    assert np.abs(b).max() <= 1 / math.sqrt(1000) and np.abs(b).max() > 0.9 / math.sqrt(1000)


@pytest.mark.parametrize(("activation", "gain"), [(None, 1.0), ("tanh", 5 / 3)])
def test_xavier_init_bounds(activation, gain):
    layer = Linear(300, 200, init="xavier", activation=activation, seed=0)
    bound = gain * math.sqrt(6 / (300 + 200))
    w = layer.weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_init_is_reproducible_by_seed():
    a, b, c = (Linear(20, 10, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    m1, m2 = MLP([8, 4, 2], seed=3), MLP([8, 4, 2], seed=3)
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="unknown init"):
        Linear(2, 2, init="orthogonal")


# ----------------------------------------------------------------------- MLP / Sequential
def test_mlp_structure():
    m = MLP([784, 32, 16, 10], activation="tanh", seed=0)
    assert m.sizes == [784, 32, 16, 10] and m.activation == "tanh"
    assert [type(layer).__name__ for layer in m._modules] == [
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
    ]
    assert [(layer.in_features, layer.out_features) for layer in m._modules[::2]] == [
        (784, 32),
        (32, 16),
        (16, 10),
    ]
    out = m(Tensor(np.zeros((3, 784))))
    assert out.shape == (3, 10)


def test_sequential_runs_linear_and_activation_as_one_fused_op():
    m = MLP([5, 4, 3, 2], activation="relu", seed=0)
    x = Tensor(np.random.default_rng(0).standard_normal((6, 5)))
    out = m(x)
    # Walk back from the output: three fused Linear ops; the last one has no activation.
    ctx, activations = out._ctx, []
    while ctx is not None:
        assert type(ctx).__name__ == "FusedLinear"
        activations.append(ctx.saved[3])
        ctx = ctx.parents[0]._ctx
    assert activations == ["none", "relu", "relu"]
    # And the fused result equals the unfused computation.
    h = x
    for i, layer in enumerate(m._modules[::2]):
        h = h @ layer.weight.T + layer.bias
        if i < 2:
            h = h.relu()
    np.testing.assert_allclose(out.data, h.data, rtol=1e-5, atol=1e-6)


def test_sequential_fuses_any_activation_after_a_linear():
    seq = Sequential(Linear(3, 2, seed=0), Tanh(), Linear(2, 2, seed=1), ReLU())
    out = seq(Tensor(np.ones((1, 3))))
    assert type(out._ctx).__name__ == "FusedLinear" and out._ctx.saved[3] == "relu"
    assert out._ctx.parents[0]._ctx.saved[3] == "tanh"


# ----------------------------------------------------------------------- optimizers
def parameter(values: list[float], grad: list[float]) -> Tensor:
    p = Tensor(np.array(values, dtype=np.float32), requires_grad=True)
    p.grad = np.array(grad, dtype=np.float32)
    return p


def test_sgd_nesterov_momentum_weight_decay_two_steps(backend_name):
    # lr 0.1, momentum 0.9, weight decay 0.01, nesterov; the same gradient twice.
    p = parameter([1.0, -2.0, 0.5], grad=[0.1, 0.2, -0.3])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    opt.step()
    # step 1: g' = g + 0.01 p          = [0.11, 0.18, -0.295]
    #         buf = 0.9 * 0 + g'       = [0.11, 0.18, -0.295]
    #         d = g' + 0.9 buf         = [0.209, 0.342, -0.5605]
    #         p = p - 0.1 d            = [0.9791, -2.0342, 0.55605]
    np.testing.assert_allclose(p.data, [0.9791, -2.0342, 0.55605], rtol=1e-6)
    np.testing.assert_allclose(opt.buffers[0], [0.11, 0.18, -0.295], rtol=1e-6)
    p.grad = np.array([0.1, 0.2, -0.3], dtype=np.float32)
    opt.step()
    # step 2: g' = g + 0.01 p          = [0.109791, 0.179658, -0.2944395]
    #         buf = 0.9 buf + g'       = [0.208791, 0.341658, -0.5599395]
    #         d = g' + 0.9 buf         = [0.2977029, 0.4871502, -0.79838505]
    #         p = p - 0.1 d            = [0.94932971, -2.08291502, 0.635888505]
    np.testing.assert_allclose(p.data, [0.94932971, -2.08291502, 0.635888505], rtol=1e-6)
    np.testing.assert_allclose(opt.buffers[0], [0.208791, 0.341658, -0.5599395], rtol=1e-6)


def test_sgd_plain_and_heavy_ball(backend_name):
    p = parameter([1.0, 2.0], grad=[0.5, -1.0])
    SGD([p], lr=0.1).step()  # p - lr g
    np.testing.assert_allclose(p.data, [0.95, 2.1], rtol=1e-6)

    q = parameter([1.0, 2.0], grad=[0.5, -1.0])
    opt = SGD([q], lr=0.1, momentum=0.5)
    opt.step()  # buf = g = [0.5, -1];                q = [0.95, 2.1]
    q.grad = np.array([0.5, -1.0], dtype=np.float32)
    opt.step()  # buf = 0.5 buf + g = [0.75, -1.5];   q = [0.95 - 0.075, 2.1 + 0.15]
    np.testing.assert_allclose(q.data, [0.875, 2.25], rtol=1e-6)


def test_sgd_skips_parameters_without_gradient(backend_name):
    p = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    SGD([p], lr=0.1, momentum=0.9).step()
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_adam_two_steps_bias_correction(backend_name):
    # With a constant gradient, bias correction makes every step exactly lr * sign(g):
    #   step 1: m = 0.1 g,  v = 0.001 g^2;   m/(1-0.9) = g,  v/(1-0.999) = g^2
    #   step 2: m = 0.19 g, v = 0.001999 g^2; m/(1-0.81) = g, v/(1-0.998001) = g^2
    # so p moves by lr * g / (|g| + eps) = 0.01 * sign(g) each time (eps changes it by ~1e-9).
    p = parameter([1.0, -2.0, 0.5], grad=[0.1, 0.2, -0.3])
    opt = Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, -2.01, 0.51], rtol=1e-6)
    p.grad = np.array([0.1, 0.2, -0.3], dtype=np.float32)
    opt.step()
    np.testing.assert_allclose(p.data, [0.98, -2.02, 0.52], rtol=1e-6)
    np.testing.assert_allclose(opt.m[0], np.multiply(0.19, [0.1, 0.2, -0.3]), rtol=1e-6)
    np.testing.assert_allclose(opt.v[0], np.multiply(0.001999, [0.01, 0.04, 0.09]), rtol=1e-5)
    assert opt.t == 2


def test_adam_changing_gradient_with_weight_decay(backend_name):
    lr, b1, b2, eps, wd = 0.05, 0.8, 0.9, 1e-8, 0.1
    p = parameter([1.0, -1.0], grad=[0.5, 0.25])
    opt = Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    opt.step()
    p.grad = np.array([-1.0, 0.5], dtype=np.float32)
    opt.step()
    # By hand, in float64:
    x = np.array([1.0, -1.0])
    g1 = np.array([0.5, 0.25]) + wd * x  # [0.6, 0.15]
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    x = x - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)  # = x - lr * sign(g1)
    np.testing.assert_allclose(x, [0.95, -1.05])
    g2 = np.array([-1.0, 0.5]) + wd * x  # [-0.905, 0.395]
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    x = x - lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)
    np.testing.assert_allclose(p.data, x, rtol=1e-5)


def test_optimizer_rejects_bad_settings():
    p = Tensor(np.zeros(2, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(1.0, 0.999))


# ----------------------------------------------------------------------- schedules
def lrs(schedule, optimizer, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        schedule.step()
        out.append(optimizer.lr)
    return out


def test_cosine_schedule_values():
    opt = SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=1.0)
    sched = CosineLR(opt, total_steps=4)
    # lr_t = (1 + cos(pi t / 4)) / 2 for t = 1..4, then it stays at min_lr.
    expected = [(1 + math.cos(math.pi / 4)) / 2, 0.5, (1 - math.cos(math.pi / 4)) / 2, 0.0, 0.0]
    np.testing.assert_allclose(lrs(sched, opt, 5), expected, atol=1e-12)

    opt2 = SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=0.5)
    sched2 = CosineLR(opt2, total_steps=2, min_lr=0.1)
    np.testing.assert_allclose(lrs(sched2, opt2, 2), [0.1 + 0.4 * 0.5, 0.1])


def test_step_schedule_values():
    opt = SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    np.testing.assert_allclose(lrs(sched, opt, 5), [1.0, 0.1, 0.1, 0.01, 0.01])


@pytest.mark.parametrize("make", [lambda o: CosineLR(o, 10), lambda o: StepLR(o, 3, 0.5)])
def test_schedule_state_dict_resumes_the_same_values(make):
    opt = SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=0.2)
    sched = make(opt)
    lrs(sched, opt, 4)
    state = sched.state_dict()
    rest = lrs(sched, opt, 5)

    opt2 = SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=0.2)
    sched2 = make(opt2)
    sched2.load_state_dict(state)
    assert lrs(sched2, opt2, 5) == rest
