"""Tests of the scalar `Value` engine: values and gradients against hand-derived results,
against the Tensor tier (float64), against finite differences, and against micrograd and
PyTorch when they happen to be installed."""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_mnist.scalar import Value


def sanity_expression(x):
    """micrograd's test_sanity_check expression, for any scalar-like type."""
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops_expression(a, b):
    """micrograd's test_more_ops expression (uses + - * / ** relu, numbers on both sides)."""
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_sanity_check_hand_derived():
    # z = 3x + 2 = -10 < 0, so relu(z) = 0 and y = z^2 + z*x + z*x^2.
    # dy/dx = 6z + (3x + z) + (3x^2 + 2xz) = -60 - 22 + 128 = 46.
    x = Value(-4.0)
    y = sanity_expression(x)
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_more_ops_published_values():
    # The values micrograd's README reports (computed there with PyTorch).
    a, b = Value(-4.0), Value(2.0)
    g = more_ops_expression(a, b)
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


def _tensor64(x: float):
    from tinygrad_mnist.tensors.tensor import Tensor

    return Tensor(x, dtype="float64", requires_grad=True)


def test_sanity_and_more_ops_match_tensor_tier():
    pytest.importorskip("tinygrad_mnist.tensors.tensor")
    x, xt = Value(-4.0), _tensor64(-4.0)
    y, yt = sanity_expression(x), sanity_expression(xt)
    y.backward()
    yt.backward()
    assert y.data == pytest.approx(float(yt.data), rel=1e-12)
    assert x.grad == pytest.approx(float(xt.grad), rel=1e-12)

    a, b, at, bt = Value(-4.0), Value(2.0), _tensor64(-4.0), _tensor64(2.0)
    g, gt = more_ops_expression(a, b), more_ops_expression(at, bt)
    g.backward()
    gt.backward()
    assert g.data == pytest.approx(float(gt.data), rel=1e-12)
    assert a.grad == pytest.approx(float(at.grad), rel=1e-12)
    assert b.grad == pytest.approx(float(bt.grad), rel=1e-12)


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    a, b = Value(-4.0), Value(2.0)
    at = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    g, gt = more_ops_expression(a, b), more_ops_expression(at, bt)
    g.backward()
    gt.backward()
    assert g.data == pytest.approx(gt.item(), rel=1e-12)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)

    # The unary functions too (torch's leaky_relu has the same max(0.1x, x) meaning).
    for x0 in (-1.3, 0.7):
        v, t = Value(x0), torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        out = v.tanh() + v.sigmoid() * v.exp() + v.leaky_relu(0.1) + (v * v + 1).log()
        out_t = t.tanh() + t.sigmoid() * t.exp()
        out_t = out_t + torch.nn.functional.leaky_relu(t, 0.1) + (t * t + 1).log()
        out.backward()
        out_t.backward()
        assert out.data == pytest.approx(out_t.item(), rel=1e-12)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12)


def test_matches_micrograd_when_installed():
    engine = pytest.importorskip("micrograd.engine")
    for make in (Value, engine.Value):
        a, b = make(-4.0), make(2.0)
        g = more_ops_expression(a, b)
        g.backward()
        if make is Value:
            ours = (g.data, a.grad, b.grad)
        else:
            theirs = (g.data, a.grad, b.grad)
    assert ours == pytest.approx(theirs, rel=1e-12)


RANDOM_OPS = {  # name -> f(a, b, c) for nodes a, b and a plain number c
    "add": lambda a, b, c: a + b,
    "mul": lambda a, b, c: a * b,
    "sub": lambda a, b, c: a - b,
    "div": lambda a, b, c: a / b,
    "neg": lambda a, b, c: -a,
    "tanh": lambda a, b, c: a.tanh(),
    "sigmoid": lambda a, b, c: a.sigmoid(),
    "relu": lambda a, b, c: a.relu(),
    "leaky": lambda a, b, c: a.leaky_relu(0.1),
    "log": lambda a, b, c: a.log(),
    "sqrt": lambda a, b, c: a**0.5,
    "exp": lambda a, b, c: a.exp(),
    "cube": lambda a, b, c: a**3,
    "num": lambda a, b, c: (c - a) * 0.5 + c / (2 + a * a),
}


def random_expression(rng: random.Random, leaves: list, steps: int = 40):
    """Apply `steps` random ops to a growing pool of nodes (reusing nodes on purpose).

    The op and operands are chosen from the *first* pool's values, so running it on two
    pools (Values and Tensors) with one rng builds the same expression on both.
    """
    pools = [list(leaves[0]), list(leaves[1])]
    for _ in range(steps):
        i, j = rng.randrange(len(pools[0])), rng.randrange(len(pools[0]))
        x, y = float(pools[0][i].data), float(pools[0][j].data)
        choices = ["add", "mul", "sub", "neg", "tanh", "sigmoid", "relu", "num"]
        if abs(y) > 0.2:
            choices.append("div")
        if x > 0.2:
            choices += ["log", "sqrt"]
        if abs(x) < 3:
            choices += ["exp", "cube"]
        if abs(x) > 1e-3:  # keep away from the kinks of relu and leaky_relu at 0
            choices.append("leaky")
        op = rng.choice(choices)
        c = round(rng.uniform(-2, 2), 3)
        for pool in pools:
            out = RANDOM_OPS[op](pool[i], pool[j], c)
            if abs(float(out.data)) > 50:  # keep the numbers moderate
                out = out.tanh()
            pool.append(out)
    # The result depends on the last few nodes, so the whole tail of the pool is used.
    return [sum(pool[-5:], pool[0] * 0) for pool in pools]


@pytest.mark.parametrize("seed", range(8))
def test_random_expressions_match_tensor_tier(seed):
    pytest.importorskip("tinygrad_mnist.tensors.tensor")
    values = [round(random.Random(seed).uniform(-2, 2), 3) + 0.1 * k for k in range(4)]
    scalars = [Value(v) for v in values]
    tensors = [_tensor64(v) for v in values]
    out, out_t = random_expression(random.Random(seed), [scalars, tensors])
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(float(out_t.data), rel=1e-10, abs=1e-12)
    for s, t in zip(scalars, tensors):
        expected = 0.0 if t.grad is None else float(t.grad)
        assert s.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


UNARY = {
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "exp": lambda v: v.exp(),
    "log": lambda v: v.log(),
    "relu": lambda v: v.relu(),
    "leaky_relu": lambda v: v.leaky_relu(0.1),
    "neg": lambda v: -v,
    "pow2": lambda v: v**2,
    "pow-1.5": lambda v: v**-1.5,
    "pow0": lambda v: v**0,
    "radd": lambda v: 3 + v,
    "rsub": lambda v: 3 - v,
    "rmul": lambda v: 3 * v,
    "rdiv": lambda v: 3 / v,
    "sub_num": lambda v: v - 3,
    "div_num": lambda v: v / 3,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", [0.37, 1.9, -0.8])
def test_unary_derivative_matches_finite_difference(name, x):
    if name in ("log", "pow-1.5"):
        x = abs(x)  # defined for positive inputs only
    f = UNARY[name]
    v = Value(x)
    out = f(v)
    out.backward()
    h = 1e-6
    numeric = (f(Value(x + h)).data - f(Value(x - h)).data) / (2 * h)
    assert v.grad == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_binary_derivatives_match_finite_difference(op):
    f = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }[op]
    a, b = Value(1.3), Value(-0.7)
    f(a, b).backward()
    h = 1e-6
    da = (f(Value(1.3 + h), b).data - f(Value(1.3 - h), b).data) / (2 * h)
    db = (f(a, Value(-0.7 + h)).data - f(a, Value(-0.7 - h)).data) / (2 * h)
    assert a.grad == pytest.approx(da, rel=1e-6)
    assert b.grad == pytest.approx(db, rel=1e-6)


def test_leaky_relu_is_max_of_slope_x_and_x():
    assert Value(-2.0).leaky_relu(0.1).data == pytest.approx(-0.2)
    assert Value(2.0).leaky_relu(0.1).data == 2.0
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.2)  # 0.1 by default


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(0.0).sigmoid().data == 0.5


def test_reused_node_accumulates_gradient():
    a = Value(3.0)
    b = a * a + a  # db/da = 2a + 1 = 7
    b.backward()
    assert a.grad == 7.0
    for expr, expected in ((lambda x: x + x, 2.0), (lambda x: x - x, 0.0), (lambda x: x / x, 0.0)):
        x = Value(3.0)
        expr(x).backward()
        assert x.grad == expected


def test_diamond_graph_gradient():
    # a feeds b and c, which meet again in d: both paths must reach a.
    a = Value(2.0)
    b, c = a * 3, a.exp()
    d = b * c  # d = 3a e^a, dd/da = 3 e^a (1 + a)
    d.backward()
    assert a.grad == pytest.approx(3 * math.exp(2.0) * 3.0, rel=1e-12)


def test_second_backward_accumulates_leaves_only():
    a = Value(2.0)
    c = (a * 3).relu() * a  # 3a^2, dc/da = 6a = 12
    c.backward()
    c.backward()
    assert a.grad == 24.0  # leaves accumulate across calls ...
    assert c._prev[0].grad == 2.0  # ... inner nodes are recomputed, not doubled


@pytest.mark.slow
def test_chain_of_100k_nodes_backward():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = -y  # one node per step; the sign flips back after an even count
    y.backward()
    assert y.data == 1.0
    assert x.grad == 1


def test_micrograd_compatible_surface():
    a = Value(2.0)
    assert (a.data, a.grad, a._prev, a._op) == (2.0, 0, (), "")
    assert callable(a._backward)
    assert repr(a) == "Value(data=2.0, grad=0)"
    b = a * 4.0
    assert b._op == "*" and a in b._prev and len(b._prev) == 2
    assert (a + 1)._op == "+" and a.relu()._op == "ReLU" and (a**2)._op == "**2"
    b.backward()
    assert repr(a) == "Value(data=2.0, grad=4.0)"
    # micrograd's positional constructor (data, _children, _op) still works
    c = Value(5.0, (a,), "custom")
    assert c._prev == (a,) and c._op == "custom"
    assert Value(1.0, label="x").label == "x"
    # sum() starts from 0 and works through __radd__
    assert sum([Value(1.0), Value(2.0), Value(3.5)]).data == 6.5


def test_slots_mean_no_instance_dict():
    with pytest.raises(AttributeError):
        Value(1.0).unknown_attribute = 1


def test_errors_are_clear():
    with pytest.raises(ValueError, match="positive"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="int or float"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match="int or float"):
        Value(2.0) ** "3"
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** (1 / 3)


def test_backward_by_hand_one_node_at_a_time():
    # As in micrograd's lecture: set the output's grad to 1 and call _backward() node by
    # node, outputs first; this gives the same gradients as backward().
    x, w, b = Value(2.0), Value(-3.0), Value(6.5)
    xw = x * w
    n = xw + b
    o = n.tanh()
    o.grad = 1.0
    o._backward()
    assert n.grad == pytest.approx(1 - math.tanh(0.5) ** 2)
    n._backward()
    assert (xw.grad, b.grad) == (n.grad, n.grad)
    xw._backward()
    assert (x.grad, w.grad) == (pytest.approx(-3 * n.grad), pytest.approx(2 * n.grad))
