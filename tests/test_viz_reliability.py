"""The explorer under hostile or unusual input: text that could end the page's script early,
gradients the user already retained, graphs too big for a browser, and arguments that must
get a one-line ExploreError rather than a traceback. (No browser here; the page itself is
opened with such text in tests/test_browser_explorer.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from tinygrad_mnist import Tensor, viz
from tinygrad_mnist.scalar import Value
from tinygrad_mnist.viz.graph_record import ExploreError, record
from tinygrad_mnist.viz.page import MAX_NODES

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


def chain(n_links: int) -> Tensor:
    """A graph of 3 n_links + 2 nodes: x, then (x + b_i).tanh() n_links times, then a sum."""
    x = Tensor(np.linspace(-1, 1, 4), requires_grad=True, dtype="float64")
    for i in range(n_links):
        x = (x + Tensor(np.full(4, 0.01 * i), requires_grad=True, dtype="float64")).tanh()
    return x.sum()


def test_a_graph_too_big_to_draw_is_refused_with_its_size(tmp_path):
    loss = chain(MAX_NODES // 3 + 1)
    with pytest.raises(ExploreError, match=r"has \d+ nodes; .* draws at most \d+"):
        viz.explore(loss, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()
    assert loss._ctx.saved is not None  # refused before the backward pass: nothing changed


@pytest.mark.slow
def test_the_cli_says_the_pages_size(tmp_path):
    result = run_cli("viz", "--example", "neuron", "--out", str(tmp_path / "n.html"))
    assert result.returncode == 0
    assert re.search(r"wrote .*n\.html \(10 nodes, 1\.\d MB\)", result.stdout), result.stdout


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"title": None}, r"^title must be a str, not NoneType$"),
        ({"title": "bad \ud800 title"}, r"^title: .*surrogate"),
        ({"names": {"w\udc00": "w"}}, r"^names: .*surrogate"),
        ({"rankdir": None}, r"^rankdir must be one of LR, TB"),
    ],
)
def test_bad_arguments_get_one_line(tmp_path, kwargs, pattern):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    if "names" in kwargs:
        kwargs = {"names": {k: w for k in kwargs["names"]}}
    with pytest.raises(ExploreError, match=pattern) as info:
        viz.explore((w * 2).sum(), tmp_path / "g.html", **kwargs)
    assert "\n" not in str(info.value)
    assert w.grad is None  # checked before any work
    assert not list(tmp_path.iterdir())


def test_a_label_with_a_lone_surrogate(tmp_path):
    a = Value(2.0, label="a\ud800")
    with pytest.raises(ExploreError, match=r"^a label: .*surrogate"):
        viz.explore(a * a, tmp_path / "g.html")


@pytest.mark.parametrize("stem", ["x" * 300, "é" * 130])
def test_a_file_name_too_long_for_the_file_system(tmp_path, stem):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(ExploreError, match=r"^cannot write .*: the file name is too long"):
        viz.explore((w * 2).sum(), tmp_path / f"{stem}.html")
    assert w.grad is None


@pytest.mark.slow
def test_cli_too_long_out_gets_one_line(tmp_path):
    result = run_cli("viz", "--example", "neuron", "--out", str(tmp_path / ("n" * 300 + ".html")))
    assert_clean_error(result, 2, r"^error: cannot write .*: the file name is too long")
