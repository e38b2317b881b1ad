"""The course's worked examples as graphs, built once here for the examples, the explorer and
the tests (`tinygrad-mnist viz --example NAME` draws each).

forward_pass: the MLP forward pass of the course's slides, with tensors.
    x = [1.5, 2.5, 3]; layers 1 and 2 have 3 units, layer 3 has 2. Every W1 weight is 0.05,
    every W2 weight 0.025, every W3 weight 1.0; b1 = b2 = [0.01, 0.02, 0.03], b3 = [0.01, 0.02].
        a1 = x W1 + b1,  h1 = sigmoid(a1)
        a2 = h1 W2 + b2, h2 = sigmoid(a2)
        a3 = h2 W3 + b3, h3 = softmax(a3)
        loss = binary cross-entropy of h3 against y = [1, 0], averaged over the two outputs
    The loss is 0.6982 (the slide truncates to 0.6981).

neuron: one scalar neuron, o = tanh(x1*w1 + x2*w2 + b), micrograd's first example.
"""

from __future__ import annotations

import numpy as np

from .nn import functional as F
from .scalar import Value
from .tensors.tensor import Tensor

EXAMPLES = ("forward_pass", "neuron")


def course_parameters() -> dict[str, Tensor]:
    """The worked example's input x, target y and parameters W1, b1, W2, b2, W3, b3 (float64)."""

    def param(values: object) -> Tensor:
        return Tensor(values, requires_grad=True, dtype="float64")

    return {
        "x": Tensor([1.5, 2.5, 3.0], dtype="float64"),
        "y": Tensor([1.0, 0.0], dtype="float64"),
        "W1": param(np.full((3, 3), 0.05)),
        "b1": param([0.01, 0.02, 0.03]),
        "W2": param(np.full((3, 3), 0.025)),
        "b2": param([0.01, 0.02, 0.03]),
        "W3": param(np.full((3, 2), 1.0)),
        "b3": param([0.01, 0.02]),
    }


def course_forward(p: dict[str, Tensor]) -> dict[str, Tensor]:
    """The forward pass on the tensors of course_parameters(): a1, h1, a2, h2, a3, h3, loss."""
    a1 = p["x"] @ p["W1"] + p["b1"]
    h1 = a1.sigmoid()
    a2 = h1 @ p["W2"] + p["b2"]
    h2 = a2.sigmoid()
    a3 = h2 @ p["W3"] + p["b3"]
    h3 = a3.softmax(dim=0)
    loss = F.binary_cross_entropy(h3, p["y"])
    return {"a1": a1, "h1": h1, "a2": a2, "h2": h2, "a3": a3, "h3": h3, "loss": loss}


def forward_pass() -> dict[str, Tensor]:
    """The worked example's graph, not yet backwarded: every named tensor, the loss last."""
    params = course_parameters()
    return {**params, **course_forward(params)}


def neuron() -> dict[str, Value]:
    """o = tanh(x1*w1 + x2*w2 + b) with micrograd's numbers (o = 0.7071), every value labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")  # chosen so that the numbers come out round
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1*w1": x1w1, "x2*w2": x2w2,
            "x1*w1 + x2*w2": s, "n": n, "o": o}  # fmt: skip
