"""The autograd explorer without a browser: the numbers it serialises are the engine's, the
file:line it names holds the derivative, and bad input gets a one-line error.
(tests/test_browser_explorer.py drives the page itself in Chromium.)"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, assert_clean_error, run_cli

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn, viz
from tinygrad_mnist.autograd.function import Function
from tinygrad_mnist.ops import activations, arithmetic, matmul
from tinygrad_mnist.scalar import Value
from tinygrad_mnist.viz import derivative_source
from tinygrad_mnist.viz.graph_record import ExploreError, record
from tinygrad_mnist.viz.page import _vendored_viz_js
from tinygrad_mnist.worked_examples import forward_pass, neuron

COURSE_NAMES = ("loss", "h3", "a3", "h2", "a2", "h1", "a1", "W1", "b1", "W2", "b2", "W3", "b3")


def engine_grads() -> dict[str, np.ndarray]:
    """The course example's gradients from a plain backward, independent of the explorer."""
    g = forward_pass()
    for name in ("h3", "a3", "h2", "a2", "h1", "a1"):
        g[name].retain_grad()
    g["loss"].backward()
    out = {name: g[name].grad.data.copy() for name in COURSE_NAMES if name != "loss"}
    out["loss"] = np.array(1.0)
    return out


def page_json(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1).replace("<\\/", "</"))


def by_name(data: dict) -> dict[str, dict]:
    return {n["name"]: n for n in data["nodes"]}


def test_forward_pass_loss_is_the_course_number():
    g = forward_pass()
    assert g["loss"].item() == pytest.approx(0.6982, abs=5e-5)  # the slide truncates: 0.6981
    np.testing.assert_allclose(g["h3"].data, [0.497500, 0.502500], atol=1e-6)


def test_recorded_gradients_are_the_engines(backend_name):
    expected = engine_grads()
    g = forward_pass()
    rec = record(g["loss"], g)
    nodes = {n.name: n for n in rec.nodes}
    for name, grad in expected.items():
        np.testing.assert_array_equal(nodes[name].grad.reshape(grad.shape), grad, err_msg=name)
    # dL/da3 = h3 - y for softmax + BCE averaged over 2 outputs (the slide's -0.5025, 0.5025)
    np.testing.assert_allclose(nodes["a3"].grad, [-0.5025, 0.5025], atol=1e-4)
    np.testing.assert_allclose(nodes["W3"].grad[:, 0], -0.5025 * g["h2"].data, rtol=1e-4)


def test_each_nodes_gradient_is_the_sum_of_its_edges():
    for graph, loss in ((forward_pass(), "loss"), (neuron(), "o")):
        rec = record(graph[loss], graph)
        for node in rec.nodes:
            parts = [e.contribution for e in rec.edges if e.parent == node.id]
            if node.id == rec.order[0] or node.grad is None:
                assert not parts
                continue
            np.testing.assert_allclose(sum(parts), node.grad, rtol=1e-12, atol=1e-15)


def test_local_derivatives_are_the_closed_forms():
    g = forward_pass()
    rec = record(g["loss"], g)
    nodes = {n.name: n for n in rec.nodes}
    sig = [e for e in rec.edges if rec.nodes[e.consumer].name == "h2"]
    assert len(sig) == 1 and sig[0].kind == "elementwise"
    h2 = nodes["h2"].data
    np.testing.assert_allclose(sig[0].local, h2 * (1 - h2), rtol=1e-12)  # σ'(a2) = h2 (1 - h2)
    np.testing.assert_allclose(sig[0].contribution, nodes["h2"].grad * h2 * (1 - h2), atol=1e-17)
    # W3's two columns are equal, so dL/dh2 = W3 @ dL/da3 = -0.5025 + 0.5025 = 0, and the
    # matmul's terms show exactly that sum
    w3 = nodes["W3"].id
    mm = [e for e in rec.edges if e.kind == "matmul" and e.index == 0]
    terms = next(e for e in mm if w3 in rec.nodes[e.consumer].parents).terms
    np.testing.assert_allclose(terms[0], [(-0.5025, 1.0), (0.5025, 1.0)], atol=1e-4)


def test_page_json_holds_the_engines_numbers(tmp_path):
    g = forward_pass()
    path = viz.explore(g["loss"], tmp_path / "graph.html", names=g)
    data = by_name(page_json(path))
    for name, grad in engine_grads().items():
        np.testing.assert_array_equal(np.array(data[name]["grad"]), grad.reshape(-1), err_msg=name)
    assert data["loss"]["data"] == [pytest.approx(0.6982, abs=5e-5)]
    assert data["x"]["grad"] is None and not data["x"]["requiresGrad"]
    steps = page_json(path)["steps"]
    order = [page_json(path)["nodes"][s["node"]]["name"] for s in steps]
    assert order[0] == "loss" and "W1" in order
    for later, earlier in (("a3", "h3"), ("h2", "a3"), ("a2", "h2"), ("h1", "a2"), ("W1", "a1")):
        assert order.index(earlier) < order.index(later)  # reverse topological order


def test_explore_leaves_the_graph_as_backward_does(tmp_path):
    g = forward_pass()
    viz.explore(g["loss"], path=tmp_path / "g.html", names=g)
    expected = engine_grads()
    np.testing.assert_array_equal(g["W3"].grad.data, expected["W3"])
    assert g["a2"].grad is None  # inner tensors keep no grad, as after backward()
    with pytest.raises(RuntimeError, match="second time"):
        g["loss"].backward()  # the saved arrays were freed, as backward() frees them
    with pytest.raises(ExploreError, match="already ran"):
        record(g["loss"])


def test_leaf_gradients_accumulate_as_backward_does():
    g = forward_pass()
    g["W3"].grad = np.ones((3, 2))
    rec = record(g["loss"], g)
    expected = engine_grads()["W3"]
    np.testing.assert_array_equal(next(n for n in rec.nodes if n.name == "W3").grad, expected)
    np.testing.assert_allclose(g["W3"].grad.data, 1 + expected, rtol=1e-15)


def test_scalar_graph_records_values_grads_and_locals():
    g = neuron()
    rec = record(g["o"], g)
    nodes = {n.name: n for n in rec.nodes}
    assert float(nodes["o"].data) == pytest.approx(0.7071, abs=1e-4)
    assert float(nodes["w1"].grad) == pytest.approx(1.0)  # x1 (1 - o^2)
    assert float(nodes["x1"].grad) == pytest.approx(-1.5)
    tanh = next(e for e in rec.edges if rec.nodes[e.consumer].name == "o")
    assert float(tanh.local) == pytest.approx(1 - 0.7071**2, abs=1e-4)
    assert g["w1"].grad == pytest.approx(1.0)  # the Values got their grads, as backward()


def test_a_value_used_twice_gets_both_contributions():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    rec = record(b)
    edges = [e for e in rec.edges if rec.nodes[e.parent].name == "a"]
    assert [float(e.contribution) for e in edges] == [3.0, 3.0]
    assert float(next(n for n in rec.nodes if n.name == "a").grad) == 6.0


def test_the_bundled_graphviz_is_the_published_file_unmodified(tmp_path):
    # the sha256 the vendor README gives for @viz-js/viz 3.31.0's dist/viz-global.js
    readme = (REPO / "tinygrad_mnist/viz/vendor/README.md").read_text(encoding="utf-8")
    expected = re.search(r"checks it\): ([0-9a-f]{64})", readme).group(1)
    js = _vendored_viz_js()
    assert hashlib.sha256(js.encode("utf-8")).hexdigest() == expected
    page = viz.explore(neuron()["o"], tmp_path / "n.html").read_text(encoding="utf-8")
    assert js.replace("</script", "<\\/script") in page  # inlined, whole


def test_unlabelled_values_as_micrograd_users_write_them(tmp_path):
    # micrograd style: no labels, and a Python number turned into a Value by the op
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + 1).tanh()
    path = viz.explore(out, tmp_path / "values.html")
    assert path.exists()
    rec = record((Value(2.0) * Value(-3.0) + 1).tanh())
    leaves = sorted(n.name for n in rec.nodes if not n.op)
    assert leaves == ["-3", "1", "2"]  # each leaf named by its value
    assert a.grad == pytest.approx(-3 * (1 - np.tanh(-5.0) ** 2))


def test_fused_linear_shows_as_fused_with_its_parts(tmp_path):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    x = Tensor(rng.normal(size=(5, 4)))
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 1, 1, 0, 1]), dtype="int64"))
    path = viz.explore(loss, tmp_path / "fused.html")
    data = page_json(path)
    ops = [n["op"] for n in data["nodes"]]
    assert "linear+sigmoid\n(fused: x @ w^T, + b, sigmoid)" in ops
    assert "(fused: x @ w^T, + b, sigmoid)" in data["dot"].replace("<BR/>", "\n")
    w = model[0].weight
    fused_w = next(n for n in data["nodes"] if n["shape"] == [3, 4] and n["requiresGrad"])
    # float32, written with 9 significant digits: read back, the very same float32s
    np.testing.assert_array_equal(np.array(fused_w["grad"], np.float32), w.grad.data.reshape(-1))
    src = {e["source"]["file"] for e in data["edges"] if e["source"]}
    assert "tinygrad_mnist/backends/numpy_backend.py" in src  # linear_backward's dz line


@pytest.mark.parametrize(
    ("op", "index", "contains"),
    [
        (activations.Sigmoid, 0, "y * (1 - y)"),
        (activations.Log, 0, "div(g, self.saved)"),
        (arithmetic.Mul, 0, "mul(g, b)"),
        (arithmetic.Mul, 1, "mul(g, a)"),
        (arithmetic.Sub, 1, "neg(g)"),
        (matmul.MatMul, 0, "matmul(g, b, trans_b=True)"),
        (matmul.MatMul, 1, "matmul(a, g, trans_a=True)"),
    ],
)
def test_tensor_derivative_line_holds_the_derivative(op, index, contains):
    where = derivative_source.tensor_derivative(op, index)
    line = (REPO / where.file).read_text().splitlines()[where.line - 1]
    assert contains in line and line.strip() == where.code


@pytest.mark.parametrize(
    ("op", "index", "contains"),
    [
        ("sigmoid", 0, "s * (1 - s)"),
        ("tanh", 0, "1 - t * t"),
        ("*", 1, "(other.data, self.data)"),
        ("/", 1, "-out / other.data"),
        ("**3", 0, "n * self.data ** (n - 1)"),
    ],
)
def test_scalar_derivative_line_holds_the_derivative(op, index, contains):
    where = derivative_source.scalar_derivative(op, index)
    assert where.file == "tinygrad_mnist/scalar.py"
    line = (REPO / where.file).read_text().splitlines()[where.line - 1]
    assert contains in line and line.strip() == where.code


class Cube(Function):  # defined here, so the explorer must find it here, by introspection
    def forward(self, x):
        self.saved = x
        return x * x * x

    def backward(self, g):
        return (g * 3 * self.saved * self.saved,)


def test_derivative_source_is_found_by_introspection_not_a_table():
    where = derivative_source.tensor_derivative(Cube, 0)
    assert where.file.endswith("tests/test_viz.py")
    assert (
        "g * 3 * self.saved * self.saved" in Path(__file__).read_text().splitlines()[where.line - 1]
    )


def test_every_edge_of_the_examples_names_a_real_line(tmp_path):
    for graph, loss in ((forward_pass(), "loss"), (neuron(), "o")):
        data = page_json(viz.explore(graph[loss], tmp_path / "g.html", names=graph))
        for e in data["edges"]:
            src = e["source"]
            assert src is not None, e
            assert (REPO / src["file"]).read_text().splitlines()[src["line"] - 1].strip() == src[
                "code"
            ]


def test_page_is_self_contained(tmp_path):
    g = forward_pass()
    text = viz.explore(g["loss"], tmp_path / "g.html", names=g).read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text
    assert not re.search(r'(src|href)="https?:', text)
    assert "Viz.instance" in text and "viz-js" in text.lower()  # the bundled library, inlined
    assert len(text.encode()) < 1_600_000  # 1.33 MB of it is @viz-js/viz


def test_big_tensors_get_a_small_heat_map(tmp_path):
    rng = np.random.default_rng(1)
    w = Tensor(rng.normal(size=(30, 40)), requires_grad=True)
    loss = (Tensor(rng.normal(size=(8, 30))) @ w).sigmoid().mean()
    data = page_json(viz.explore(loss, tmp_path / "big.html", names={"w": w}))
    cells = re.findall(r'ID="n(\d+)_d_(\d+)"', data["dot"])
    w_id = by_name(data)["w"]["id"]
    assert len([c for c in cells if int(c[0]) == w_id]) == 12 * 16
    assert len(by_name(data)["w"]["grad"]) == 1200  # all numbers are still in the data


@pytest.mark.parametrize(
    "bad",
    [3.0, "loss"],
)
def test_explore_refuses_what_is_not_a_graph(bad, tmp_path):
    with pytest.raises(ExploreError, match="needs a Tensor or a Value"):
        viz.explore(bad, tmp_path / "g.html")


def test_explore_refuses_a_tensor_loss_and_bad_paths(tmp_path):
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ExploreError, match="must be one number"):
        viz.explore(w * 2, tmp_path / "g.html")
    with pytest.raises(ExploreError, match="does not require grad"):
        viz.explore(Tensor(1.0), tmp_path / "g.html")
    with pytest.raises(ExploreError, match="does not exist"):
        viz.explore((w * 2).sum(), tmp_path / "missing" / "g.html")
    with pytest.raises(ExploreError, match="an .html file"):
        viz.explore((w * 2).sum(), tmp_path / "g.png")
    assert w.grad is None  # the path is checked before any work


def test_cli_writes_the_forward_pass_page(tmp_path):
    out = tmp_path / "fp.html"
    out.write_text("old")
    result = run_cli("viz", "--example", "forward_pass", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    data = by_name(page_json(out))
    np.testing.assert_array_equal(np.array(data["W3"]["grad"]), engine_grads()["W3"].reshape(-1))
    assert [p.name for p in tmp_path.iterdir()] == ["fp.html"]  # replaced, no temp file left


@pytest.mark.parametrize(
    ("out", "pattern"),
    [
        ("missing/dir/g.html", r"^error: cannot write .*g\.html: the folder .* does not exist\n$"),
        ("g.txt", r"^error: the explorer writes an \.html file, not '.*g\.txt'\n$"),
    ],
)
def test_cli_bad_paths_get_one_line(tmp_path, out, pattern):
    result = run_cli("viz", "--example", "forward_pass", "--out", str(tmp_path / out))
    assert_clean_error(result, 2, pattern)
    assert not list(tmp_path.rglob("*.html"))


def test_cli_folder_as_out_and_unknown_example(tmp_path):
    result = run_cli("viz", "--example", "neuron", "--out", str(tmp_path))
    assert_clean_error(result, 2, r"^error: the explorer writes an \.html file")
    result = run_cli("viz", "--example", "nope")
    assert result.returncode == 2 and "invalid choice: 'nope'" in result.stderr


def test_both_backends_record_the_same_numbers():
    grads = {}
    for name in ("numpy", "c"):
        if name not in tg.backends.available():
            pytest.skip("the C kernels are not built")
        with tg.backend(name):
            g = forward_pass()
            rec = record(g["loss"], g)
            grads[name] = {n.name: n.grad for n in rec.nodes if n.grad is not None}
    for key, value in grads["numpy"].items():
        np.testing.assert_allclose(grads["c"][key], value, rtol=1e-12, atol=1e-15, err_msg=key)


def test_docs_show_pictures_that_exist_and_commands_that_run():
    for doc in (REPO / "README.md", REPO / "docs" / "explorer.md"):
        text = re.sub(r"<!--.*?-->", "", doc.read_text(encoding="utf-8"), flags=re.S)
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text):
            assert (doc.parent / image).is_file(), (doc.name, image)
        assert "tinygrad-mnist viz --example forward_pass" in text


# ---------------------------------------------------------------- names a student recognises
def test_a_models_parameters_go_by_the_models_names(tmp_path):
    rng = np.random.default_rng(0)
    model = nn.MLP([4, 3, 2], activation="sigmoid", seed=0, fuse=True)
    x = Tensor(rng.normal(size=(5, 4)))
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 1, 1, 0, 1]), dtype="int64"))
    data = by_name(page_json(viz.explore(loss, tmp_path / "m.html", names=model)))
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert data[name]["requiresGrad"], name
    assert not [n for n in data if n.startswith("leaf#")]


def explore_with_my_variables(path: Path) -> dict:
    """A student's code: the explorer finds the names of its local variables by itself."""
    rng = np.random.default_rng(2)
    W1 = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b1 = Tensor(np.zeros(2), requires_grad=True)
    x = Tensor(rng.normal(size=(4, 3)))
    h = (x @ W1 + b1).sigmoid()
    model = nn.Sequential(nn.Linear(2, 1))
    loss = model(h).mean()
    Sequential, module = nn.Sequential, nn  # a class and a module among the locals: no names
    assert Sequential and module
    return by_name(page_json(viz.explore(loss, path)))


def test_the_callers_variables_name_the_nodes(tmp_path):
    data = explore_with_my_variables(tmp_path / "mine.html")
    for name in ("W1", "b1", "x", "h", "loss", "model.0.weight", "model.0.bias"):
        assert name in data, (name, sorted(data))


def test_constants_are_named_as_constants_with_their_values():
    g = forward_pass()
    rec = record(g["loss"], g)
    names = [n.name for n in rec.nodes]
    assert "constant [0, 1]" in names  # the 1 - y of the cross-entropy, made outside the graph
    assert not [n for n in names if n.startswith("leaf#")]
    w = Tensor(np.ones((3, 4)), requires_grad=True)
    rec = record((w * Tensor(np.full((3, 4), 2.0))).sum(), {"w": w})
    assert "constant 3×4" in [n.name for n in rec.nodes]


def test_a_fused_last_layer_has_no_activation_in_its_formula_or_source(tmp_path):
    rng = np.random.default_rng(0)
    model = nn.MLP([4, 3, 2], activation="sigmoid", seed=0, fuse=True)
    loss = F.cross_entropy(
        model(Tensor(rng.normal(size=(5, 4)))), Tensor(np.array([0, 1, 1, 0, 1]), dtype="int64")
    )
    data = page_json(viz.explore(loss, tmp_path / "m.html", names=model))
    nodes = by_name(data)
    to = {n["id"]: n for n in data["nodes"]}
    last = [e for e in data["edges"] if to[e["consumer"]]["op"].startswith("linear\n")]
    first = [e for e in data["edges"] if to[e["consumer"]]["op"].startswith("linear+sigmoid")]
    assert last and first
    assert not [e["formula"] for e in last if "act′" in e["formula"]]
    assert all("act′" in e["formula"] for e in first)
    dw = next(e for e in last if e["parent"] == nodes["2.weight"]["id"])
    assert "dz.T @ x" in dw["source"]["code"]  # the line of dW, not of the activation's act′
    dx = next(e for e in last if e["index"] == 0)
    assert "dz @ w" in dx["source"]["code"]


def test_the_page_has_a_legend_and_explains_the_generated_names(tmp_path):
    text = viz.explore(neuron()["o"], tmp_path / "n.html").read_text(encoding="utf-8")
    assert "How to read the graph" in text
    assert "<dt><b>d</b></dt><dd>data" in text and "<dt><b>g</b></dt><dd>gradient" in text
    assert "a white cell is 0" in text
    assert "<code>matmul#17</code> is a result no variable holds" in text


def test_the_neurons_formula_is_bracketed_as_a_factor(tmp_path):
    g = neuron()
    data = page_json(viz.explore(g["o"], tmp_path / "n.html", names=g))
    tanh = next(e for e in data["edges"] if data["nodes"][e["consumer"]]["name"] == "o")
    assert tanh["formula"] == "1 − tanh²(n)" and tanh["factor"] == "(1 − tanh²(n))"
