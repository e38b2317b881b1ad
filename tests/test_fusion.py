"""Fusion is visible and switchable: fused and unfused MLPs agree, and say which they are."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn
from tinygrad_mnist.draw import draw_dot
from tinygrad_mnist.nn.fusion import FUSE_ENV, fusion_default

ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu"]


def _loss_and_grads(model: nn.MLP, x: np.ndarray, labels: list[int]):
    loss = F.cross_entropy(model(Tensor(x, dtype=model[0].weight.dtype)), labels)
    loss.backward()
    return loss, [p.grad.copy() if hasattr(p.grad, "copy") else p.grad for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fused_and_unfused_give_equal_values_and_gradients(backend_name, activation, dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(17, 13))
    labels = list(rng.integers(0, 5, size=17))
    fused = nn.MLP([13, 9, 7, 5], activation=activation, seed=1, dtype=dtype, fuse=True)
    plain = nn.MLP([13, 9, 7, 5], activation=activation, seed=1, dtype=dtype, fuse=False)
    loss_f, grads_f = _loss_and_grads(fused, x, labels)
    loss_p, grads_p = _loss_and_grads(plain, x, labels)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert loss_f.item() == pytest.approx(loss_p.item(), rel=tol)
    assert len(grads_f) == len(grads_p) == 6
    for gf, gp in zip(grads_f, grads_p):
        gf, gp = np.asarray(getattr(gf, "data", gf)), np.asarray(getattr(gp, "data", gp))
        assert np.max(np.abs(gf - gp)) <= tol * max(1.0, np.max(np.abs(gp)))


def _ops(root) -> list[str]:
    """Names of the op nodes of draw_dot(root)."""
    src = draw_dot(root).source
    return [
        line.split('label="')[1].rsplit('"', 1)[0] for line in src.splitlines() if "_op [" in line
    ]


def test_unfused_graph_runs_each_op_through_its_own_function():
    model = nn.MLP([784, 16, 10], activation="sigmoid", seed=0, fuse=False)
    loss = F.cross_entropy(model(Tensor(np.ones((2, 784)))), [1, 2])
    ops = _ops(loss)
    assert sorted(ops) == sorted(
        ["Transpose", "MatMul", "Add", "Sigmoid", "Transpose", "MatMul", "Add", "CrossEntropy"]
    )


def test_fused_graph_names_the_sigmoid_and_the_parts():
    model = nn.MLP([784, 16, 10], activation="sigmoid", seed=0)
    assert model.fuse is fusion_default()
    model.fuse = True
    loss = F.cross_entropy(model(Tensor(np.ones((2, 784)))), [1, 2])
    ops = _ops(loss)
    assert "linear+sigmoid\\n(fused: x @ w^T, + b, sigmoid)" in ops
    assert "linear\\n(fused: x @ w^T, + b)" in ops  # the last layer has no activation
    assert "sigmoid" in draw_dot(loss).text


def test_print_model_says_which_layers_run_fused():
    text = repr(nn.MLP([784, 16, 10], activation="sigmoid", fuse=True))
    lines = text.splitlines()
    assert "fuse=True" in lines[0]
    assert lines[1].endswith("# runs fused with (1) as one linear+sigmoid op")
    assert lines[2] == "  (1): Sigmoid()  # fused into (0)"
    assert "fused" not in lines[3]  # the output layer runs alone
    off = repr(nn.MLP([784, 16, 10], activation="sigmoid", fuse=False))
    assert "fuse=False" in off and "# " not in off


def test_sequential_fuses_only_a_linear_followed_by_an_activation():
    seq = nn.Sequential(nn.Tanh(), nn.Linear(3, 4), nn.Linear(4, 2), nn.ReLU(), fuse=True)
    assert seq.fused_pairs() == [2]
    assert nn.Sequential(nn.Linear(3, 4), nn.ReLU(), fuse=False).fused_pairs() == []


@pytest.mark.parametrize("value,expected", [("0", False), ("off", False), ("1", True)])
def test_environment_variable_switches_fusion(value, expected, monkeypatch):
    # read when a model is built, so setting it in this process is what a user's shell does
    monkeypatch.setenv(FUSE_ENV, value)
    assert nn.MLP([4, 3, 2]).fuse is expected
