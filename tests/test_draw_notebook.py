"""draw_dot in a notebook: a picture with Graphviz, a readable text listing without it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import tinygrad_mnist.draw as draw
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn
from tinygrad_mnist.scalar import Value


def _mlp_loss():
    model = nn.MLP([784, 16, 10], activation="sigmoid", seed=0, fuse=True)
    loss = F.cross_entropy(model(Tensor(np.ones((2, 784)))), [1, 2])
    loss.backward()
    return loss


def test_without_graphviz_the_notebook_shows_a_text_listing(monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    graph = draw.draw_dot(_mlp_loss())
    assert graph._repr_svg_() is None
    html = graph._repr_html_()
    assert html.startswith("<pre>") and html.endswith("</pre>")
    lines = repr(graph).splitlines()
    assert lines[0] == "graph of 8 values and 3 ops, inputs first:"
    assert lines[-1].startswith("  v0 = CrossEntropy(v1)  shape () float32  data [")
    fused = [ln for ln in lines if "linear+sigmoid" in ln]
    assert len(fused) == 1 and "(fused: x @ w^T, + b, sigmoid)(v3, v4, v5)" in fused[0]
    # inputs come before what is computed from them
    assert lines.index(fused[0]) < [i for i, ln in enumerate(lines) if " = linear " in ln][0]


def test_scalar_graph_text_lists_values_with_data_and_grad(monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c.backward()
    text = repr(draw.draw_dot(c))
    assert "v0 = *(v1, v2)  c  data -6.0000  grad 1.0000" in text
    assert "a  data 2.0000  grad -3.0000" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_with_graphviz_the_notebook_shows_an_svg():
    graph = draw.draw_dot(_mlp_loss())
    svg = graph._repr_svg_()
    assert svg is not None and "<svg" in svg and "linear+sigmoid" in svg
    assert graph._repr_html_() is None  # Jupyter would prefer HTML over the picture
