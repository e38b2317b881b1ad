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
from tinygrad_mnist.scalar import Value
from tinygrad_mnist.viz.graph_record import record

HOSTILE = "<!--<script>x</script><b>&amp;"


def data_script(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S)
    assert m is not None
    return m.group(1)


def test_text_that_could_end_the_script_is_escaped_in_the_json(tmp_path):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * 2).sum()
    path = viz.explore(loss, tmp_path / "g.html", names={HOSTILE: w}, title=HOSTILE)
    raw = data_script(path)
    # `<!--<script` inside a <script> puts the HTML parser in its "double escaped" state,
    # where `</script>` no longer ends the script: so no < or > at all may reach the page
    # inside the data, and & neither (it is what an HTML entity starts with).
    assert not set("<>&") & set(raw)
    data = json.loads(raw)  # \u003c is still <, for JSON.parse too
    assert data["title"] == HOSTILE
    assert HOSTILE in [n["name"] for n in data["nodes"]]
    text = path.read_text(encoding="utf-8")
    assert "<title>&lt;!--&lt;script&gt;" in text  # the title is escaped where HTML shows it
    assert text.count("<script") == 3  # the data, the bundled library and the page's script


def test_a_value_label_with_html_in_it(tmp_path):
    a = Value(2.0, label="</script><!--<script")
    out = a * a
    raw = data_script(viz.explore(out, tmp_path / "v.html"))
    assert not set("<>&") & set(raw)


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
