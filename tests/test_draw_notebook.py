"""draw_dot in a notebook: a picture with Graphviz, a readable text listing without it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import tinygrad_mnist.draw as draw
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn
from tinygrad_mnist.scalar import Value
from tinygrad_mnist.worked_examples import forward_pass


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


def test_names_call_the_inner_tensors_by_the_students_names(monkeypatch):
    """The worked example after backward, with retain_grad on the inner tensors: the listing
    calls them h1, h2, ... (not v12, v17) and shows their gradients, dL/dh2 = 0 among them."""
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    g = forward_pass()
    for name in ("a1", "h1", "a2", "h2", "a3", "h3"):
        g[name].retain_grad()
    g["loss"].backward()
    lines = repr(draw.draw_dot(g["loss"], names=g)).splitlines()
    by_name = {ln.split(" = ")[0].strip(): ln for ln in lines[1:]}
    assert by_name["h2"] == (
        "  h2 = Sigmoid(a2)  shape (3,) float64  data [0.5136, 0.5161, 0.5186]  grad [0, 0, 0]"
    )
    assert by_name["a3"].startswith("  a3 = Add(")
    assert by_name["a3"].endswith("grad [-0.5025, 0.5025]")
    assert by_name["loss"].startswith("  loss = Mul(")
    # x @ W1 reshapes x outside the graph (x needs no grad): that leaf is still called x
    assert by_name["x"] == "  x = shape (1, 3) float64  data [1.5, 2.5, 3]  grad None"
    assert any(ln.startswith("  v") and "MatMul(x, W1)" in ln for ln in lines)
    # the picture's boxes carry the names too
    source = draw.draw_dot(g["loss"], names=g).source
    assert "{ h2 | shape (3,) float64 | data [0.5136, 0.5161, 0.5186] | grad [0, 0, 0] }" in source


def test_names_must_be_a_mapping_of_names(monkeypatch):
    a = Value(2.0, label="a")
    b = a * 3
    with pytest.raises(TypeError, match=r"names must map names to the graph's tensors"):
        draw.draw_dot(b, names=[a, b])
    with pytest.raises(TypeError, match=r"every name must be a non-empty str, got 3"):
        draw.draw_dot(b, names={3: a})
    # a name wins over a Value's label, and names not in the graph are ignored
    text = repr(draw.draw_dot(b, names={"b": b, "a": a, "unused": Value(1.0)}))
    assert text.splitlines()[-1] == "  b = *(a, v2)  data 6.0000  grad 0.0000"
