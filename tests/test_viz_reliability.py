"""The explorer under hostile or unusual input: text that could end the page's script early,
gradients the user already retained, graphs too big for a browser, and arguments that must
get a one-line ExploreError rather than a traceback. (No browser here; the page itself is
opened with such text in tests/test_browser_explorer.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tinygrad_mnist import Tensor, viz
from tinygrad_mnist.viz.graph_record import record


def data_script(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S)
    assert m is not None
    return m.group(1)


def test_a_retained_inner_gradient_is_not_counted_twice(tmp_path):
    w = Tensor(np.array([1.0, -1.0]), requires_grad=True, dtype="float64")
    h = w * 3
    h.retain_grad()
    loss = h.sum()
    loss.backward(retain_graph=True)  # h.grad = [1, 1], w.grad = [3, 3]
    rec = record(loss, {"h": h, "w": w})
    nodes = {n.name: n for n in rec.nodes}
    np.testing.assert_array_equal(nodes["h"].grad, [1.0, 1.0])  # not [2, 2]
    np.testing.assert_array_equal(nodes["w"].grad, [3.0, 3.0])
    edge = next(e for e in rec.edges if e.parent == nodes["w"].id)
    np.testing.assert_array_equal(edge.upstream, [1.0, 1.0])
    np.testing.assert_array_equal(edge.contribution, [3.0, 3.0])
    # and afterwards both hold what a second backward would have left: old + this pass
    np.testing.assert_array_equal(h.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(w.grad.data, [6.0, 6.0])


def test_the_page_json_of_a_retained_graph_has_the_true_gradient(tmp_path):
    w = Tensor(np.array([0.5, 2.0]), requires_grad=True, dtype="float64")
    h = w.sigmoid()
    h.retain_grad()
    loss = h.sum()
    loss.backward(retain_graph=True)
    data = json.loads(data_script(viz.explore(loss, tmp_path / "g.html", names={"h": h, "w": w})))
    node = next(n for n in data["nodes"] if n["name"] == "h")
    assert node["grad"] == [1.0, 1.0]
