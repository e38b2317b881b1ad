"""Tests of draw_dot: the exact DOT graph of small expressions, label escaping, and
rendering with and without Graphviz's `dot` program."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tinygrad_mnist import draw
from tinygrad_mnist.draw import draw_dot, escape_record
from tinygrad_mnist.scalar import Value

NODE = re.compile(r'^\s*(\w+) \[shape=(\w+), label="(.*)"\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse_dot(source: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """{node name: (shape, label)} and the list of edges, from our DOT output."""
    nodes, edges = {}, []
    for line in source.splitlines():
        if m := NODE.match(line):
            nodes[m[1]] = (m[2], m[3])
        elif m := EDGE.match(line):
            edges.append((m[1], m[2]))
    return nodes, edges


def named_edges(source: str) -> set[tuple[str, str]]:
    """Edges with value boxes named by their first record field and op nodes by their op."""
    nodes, edges = parse_dot(source)
    names = {n: label.strip("{} ").split(" | ")[0] for n, (_, label) in nodes.items()}
    return {(names[a], names[b]) for a, b in edges}


def test_known_expression_nodes_and_edges():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    d.backward()
    graph = draw_dot(d)
    nodes, edges = parse_dot(graph.source)

    records = sorted(label for shape, label in nodes.values() if shape == "record")
    assert records == [
        "{ a | data 2.0000 | grad -3.0000 }",
        "{ b | data -3.0000 | grad 2.0000 }",
        "{ c | data 10.0000 | grad 1.0000 }",
        "{ d | data 4.0000 | grad 1.0000 }",
        "{ e | data -6.0000 | grad 1.0000 }",
    ]
    ops = sorted(label for shape, label in nodes.values() if shape == "circle")
    assert ops == ["*", "+"]
    assert len(edges) == 6
    assert named_edges(graph.source) == {
        ("a", "*"),
        ("b", "*"),
        ("*", "e"),
        ("e", "+"),
        ("c", "+"),
        ("+", "d"),
    }
    assert graph.source.startswith("digraph G {\n  rankdir=LR;")
    assert str(graph) == graph.source


def test_reused_value_has_one_edge_per_use():
    a = Value(3.0, label="a")
    y = a * a
    nodes, edges = parse_dot(draw_dot(y).source)
    assert len(nodes) == 3  # a, y and the * op
    assert sorted(edges).count(edges[0]) == 2  # a -> * twice


def test_rankdir_is_checked():
    assert "rankdir=TB;" in draw_dot(Value(1.0), rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="sideways")


def test_labels_are_escaped():
    assert escape_record('a"b{c}d|e<f>g\\h') == 'a\\"b\\{c\\}d\\|e\\<f\\>g\\\\h'
    v = Value(1.0, label='x"{|}<>')
    nodes, _ = parse_dot(draw_dot(v).source)
    ((_, label),) = nodes.values()
    assert label == '{ x\\"\\{\\|\\}\\<\\> | data 1.0000 | grad 0.0000 }'
    # An op name with a quote is escaped in its plain (non-record) label.
    w = Value(2.0, (v,), 'say "hi"')
    assert 'label="say \\"hi\\""' in draw_dot(w).source


def test_deep_graph_does_not_recurse():
    y = Value(1.0)
    for _ in range(5000):
        y = -y
    nodes, edges = parse_dot(draw_dot(y).source)
    assert len(nodes) == 5001 + 5000 and len(edges) == 2 * 5000


def test_tensor_graph():
    tensor = pytest.importorskip("tinygrad_mnist.tensors.tensor")
    x = tensor.Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    w = tensor.Tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    loss = (x @ w).relu().sum()
    loss.backward()
    nodes, edges = parse_dot(draw_dot(loss).source)
    ops = sorted(label for shape, label in nodes.values() if shape == "circle")
    assert ops == ["MatMul", "ReLU", "Sum"]
    records = [label for shape, label in nodes.values() if shape == "record"]
    assert len(records) == 5 and len(edges) == 7
    x_box = next(r for r in records if "shape (1, 3)" in r)
    assert "data [1, -2, 3]" in x_box and "grad [1, 2, 3]" in x_box
    assert "float32" in x_box


def test_render_without_graphviz_explains_and_keeps_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    graph = draw_dot(Value(2.0) * 3)
    with pytest.raises(RuntimeError, match="Graphviz is not installed") as err:
        graph.render(tmp_path / "g.svg")
    assert "apt-get install graphviz" in str(err.value)
    assert "brew install graphviz" in str(err.value)
    assert (tmp_path / "g.dot").read_text() == graph.source  # the source is kept either way
    assert not (tmp_path / "g.svg").exists()
    assert graph._repr_svg_() is None


def test_render_dot_format_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    graph = draw_dot(Value(2.0).tanh())
    out = graph.render(tmp_path / "sub" / "g.dot")
    assert out.read_text() == graph.source
    assert [p.name for p in out.parent.iterdir()] == ["g.dot"]  # no temporary files left
    with pytest.raises(ValueError, match="format"):
        graph.render(tmp_path / "g.jpeg2000")
    with pytest.raises(ValueError, match="overwritten"):
        graph.render(tmp_path / "g.dot", format="svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_render_with_graphviz(tmp_path, suffix):
    v = Value(1.5, label='tricky "{|}<>" label')
    graph = draw_dot((v * 2).relu() + v.exp())
    out = graph.render(tmp_path / f"g.{suffix}")
    data = out.read_bytes()
    if suffix == "svg":
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data
        assert b"tricky &quot;{|}&lt;&gt;&quot; label" in data  # the escapes round-trip
        assert "<svg" in graph._repr_svg_()
    else:
        assert data.startswith(b"\x89PNG")
    assert (tmp_path / "g.dot").read_text() == graph.source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_dot_accepts_all_our_labels():
    # Graphviz itself is the judge of validity: it must parse every label we escape.
    nasty = ['"', "{", "}", "|", "<", ">", "\\", "a\nb", "{a|<b>}"]
    root = sum((Value(float(i), label=s) for i, s in enumerate(nasty)), Value(0.0))
    source = draw_dot(root).source
    run = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr and "Error" not in run.stderr
