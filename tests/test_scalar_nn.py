"""Tests of the scalar Neuron / Layer / MLP: shapes, seeding, the exact forward formula,
gradients, and that a few steps of gradient descent really fit a tiny problem."""

from __future__ import annotations

import pytest

from tinygrad_mnist.scalar import Value
from tinygrad_mnist.scalar_nn import MLP, Layer, Neuron


def test_parameter_counts_and_repr():
    model = MLP(3, [4, 4, 1])
    assert len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(2, nonlin=False)) == "LinearNeuron(2)"
    assert repr(model).startswith("MLP of [Layer of [ReLUNeuron(3)")
    assert repr(model).endswith("Layer of [LinearNeuron(4)]]")


def test_same_seed_same_weights_different_seed_different_weights():
    weights = lambda m: [p.data for p in m.parameters()]  # noqa: E731
    assert weights(MLP(3, [4, 2], seed=1)) == weights(MLP(3, [4, 2], seed=1))
    assert weights(MLP(3, [4, 2], seed=1)) != weights(MLP(3, [4, 2], seed=2))
    layer = Layer(3, 2, seed=0)
    assert layer.neurons[0].w[0].data != layer.neurons[1].w[0].data  # neurons differ
    assert all(-1 <= p.data <= 1 for p in MLP(5, [3], seed=7).parameters())


def test_neuron_forward_is_relu_of_affine():
    n = Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    assert n([2.0, 0.25]).data == pytest.approx(0.5 * 2.0 - 2.0 * 0.25 + 0.25)
    assert n([-2.0, 1.0]).data == 0  # relu cuts the negative pre-activation
    n.nonlin = False
    assert n([-2.0, 1.0]).data == pytest.approx(-1.0 - 2.0 + 0.25)


def test_layer_returns_list_or_single_value():
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    out = Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_gradients_and_zero_grad():
    n = Neuron(2, nonlin=False)
    x = [Value(3.0), Value(-1.0)]
    n(x).backward()
    assert [w.grad for w in n.w] == [3.0, -1.0]  # d(w.x + b)/dw = x
    assert n.b.grad == 1
    assert x[0].grad == n.w[0].data
    n.zero_grad()
    assert all(p.grad == 0 for p in n.parameters())


def test_gradient_descent_fits_tiny_dataset():
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], seed=3)

    def loss() -> Value:
        return sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))

    first = loss().data
    for _ in range(60):
        total = loss()
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.02 * p.grad
    assert loss().data < 0.1 * first
