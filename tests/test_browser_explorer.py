"""The autograd explorer in a real browser (headless Chromium through Playwright).

The page is opened from file:// with every non-file request aborted and the context offline:
it must draw the graph, step backward from the loss to W1 and show the engine's gradients.

The README's screenshot docs/img/explorer.png is taken by test_screenshot_for_the_readme; it
is written there when TINYGRAD_MNIST_UPDATE_SCREENSHOTS=1 (else into the test's temporary folder):
    TINYGRAD_MNIST_UPDATE_SCREENSHOTS=1 pytest tests/test_browser_explorer.py -k screenshot
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn, viz
from tinygrad_mnist.worked_examples import forward_pass, neuron

SCREENSHOT = REPO / "docs" / "img" / "explorer.png"
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def engine_forward_pass() -> dict[str, np.ndarray]:
    """The gradients of a plain backward on the course example, apart from the explorer."""
    g = forward_pass()
    for name in ("h3", "a3", "h2", "a2", "h1", "a1"):
        g[name].retain_grad()
    g["loss"].backward()
    grads = {k: v.grad.data.reshape(-1) for k, v in g.items() if v.grad is not None}
    grads["loss"] = np.array([1.0])
    return grads


@pytest.fixture
def offline(page):
    """The page fixture with the network gone: only file:// loads; other requests are
    aborted and recorded in page.blocked."""
    page.blocked = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.context.set_offline(True)
    return page


def open_page(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert page.locator("#graph svg g.node").count() > 0


@pytest.fixture
def course_page(offline, tmp_path):
    g = forward_pass()
    path = viz.explore(g["loss"], tmp_path / "forward_pass.html", names=g, title="forward pass")
    open_page(offline, path)
    return offline


def step_until(page, name: str) -> None:
    """Click Step backward until the step shows node `name`."""
    for _ in range(100):
        page.click("#step")
        if page.inner_text("#step-node") == name:
            return
    pytest.fail(f"Step backward never reached {name}")


def page_json(page, expression: str):
    return page.evaluate(
        f"() => {{ const data = JSON.parse(document.getElementById('graph-data').textContent); "
        f"return {expression}; }}"
    )


def displayed_numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(NUMBER, text.replace("…", ""))]


def test_step_backward_from_the_loss_to_W1_shows_the_engines_gradients(course_page):
    page = course_page
    expected = engine_forward_pass()
    seen: dict[str, list[float]] = {}
    chain: dict[str, str] = {}
    local: dict[str, str] = {}
    for _ in range(100):
        page.click("#step")
        name = page.inner_text("#step-node")
        values = page.get_attribute("#step-grad", "data-values")
        seen[name] = [float(v) for v in values.strip("[]").split(",")]
        shown = displayed_numbers(page.inner_text("#step-grad"))
        np.testing.assert_allclose(shown, seen[name][: len(shown)], rtol=1e-3, atol=1e-12)
        chain[name] = page.inner_text("#chain")
        local[name] = page.inner_text("#local")
        if name == "W1":
            break
    else:
        pytest.fail("Step backward never reached W1")
    assert list(seen)[0] == "loss"
    for name in ("loss", "a3", "h2", "a2", "h1", "W1"):
        np.testing.assert_array_equal(seen[name], expected[name], err_msg=name)
    # a2's step shows the chain rule through the sigmoid with the numbers, and where the
    # derivative is defined
    assert re.search(
        r"∂L/∂a2\[0\] = ∂L/∂h2\[0\] · σ\(a2\)\(1−σ\(a2\)\) = 0 · 0\.2498 = 0", chain["a2"]
    )
    where = re.search(r"defined at (\S+):(\d+)", local["a2"])
    line = (REPO / where.group(1)).read_text().splitlines()[int(where.group(2)) - 1]
    assert "y * (1 - y)" in line
    # a3's gradient comes from the softmax; W3's through the matmul, term by term
    assert "∂L/∂a3 = h3 ⊙ (∂L/∂h3 − Σ ∂L/∂h3 ⊙ h3)" in chain["a3"]
    through_w3 = next(text for text in chain.values() if "· W3ᵀ)" in text)
    assert "= (-0.5025)·1 + 0.5025·1 = 0" in through_w3  # why dL/dh2 is 0 here
    assert page.blocked == [] and page.console_errors == []


def test_the_graph_shows_gradients_only_once_stepped(course_page):
    page = course_page
    grad_text = "#graph svg g[id$='_grad'] text"
    assert set(page.locator(grad_text).all_text_contents()) == {"grad ?"}
    page.click("#step")
    texts = page.locator(grad_text).all_text_contents()
    assert texts.count("grad ?") == len(texts) - 1 and "grad 1" in texts
    assert page.locator("#graph svg g.node.current").count() == 1


def test_run_all_then_reset(course_page):
    page = course_page
    page.click("#run-all")
    total = page_json(page, "data.steps.length")
    assert page.inner_text("#progress") == f"step {total} of {total}"
    assert page.is_disabled("#step") and page.is_disabled("#run-all")
    assert "grad ?" not in page.locator("#graph svg g[id$='_grad'] text").all_text_contents()
    assert page.locator("#graph svg g.node.done").count() == total
    page.click("#reset")
    assert page.inner_text("#progress") == f"step 0 of {total}"
    assert page.locator("#graph svg g.node.done").count() == 0
    page.keyboard.press("ArrowRight")  # what a presenter's remote sends
    page.keyboard.press("PageDown")
    assert page.inner_text("#progress") == f"step 2 of {total}"
    assert page.console_errors == [] and page.blocked == []


def test_choosing_an_element_by_clicking_the_heat_map(course_page):
    page = course_page
    step_until(page, "W3")
    assert page.get_attribute("#chain", "data-element") == "0"
    node_id = page_json(page, "data.nodes.find(x => x.name === 'W3').id")
    page.click(f"#a_n{node_id}_g_5 polygon", force=True)
    assert page.get_attribute("#chain", "data-element") == "5"
    assert "∂L/∂W3[2, 1]" in page.inner_text("#chain")  # flat 5 of a 3x2 matrix
    expected = engine_forward_pass()["W3"][5]
    assert displayed_numbers(page.inner_text("#chain"))[-1] == pytest.approx(expected, rel=1e-3)


def test_the_chain_rule_lines_quoted_in_the_docs_are_what_the_page_shows(course_page):
    page = course_page
    docs = (REPO / "README.md").read_text() + (REPO / "docs" / "explorer.md").read_text()
    quoted = set(re.findall(r"`(∂L/∂(?:a2|W3)\[0(?:, 0)?\] = [^`]+)`", docs.replace("\n", " ")))
    assert len(quoted) == 2, quoted
    shown = []
    for name in ("W3", "a2"):
        step_until(page, name)
        shown.append(page.inner_text("#chain"))
    for line in quoted:
        assert any(" ".join(line.split()) in text for text in shown), line


def test_a_value_graph(offline, tmp_path):
    g = neuron()
    path = viz.explore(g["o"], tmp_path / "neuron.html", names=g)
    page = offline
    open_page(page, path)
    shown = {}
    for _ in range(len(g)):
        page.click("#step")
        shown[page.inner_text("#step-node")] = float(
            page.get_attribute("#step-grad", "data-values").strip("[]")
        )
    assert page.is_disabled("#step")
    fresh = neuron()
    fresh["o"].backward()
    assert shown == {k: v.grad for k, v in fresh.items()}
    assert shown["w1"] == pytest.approx(1.0) and shown["x1"] == pytest.approx(-1.5)
    page.click("#reset")
    for _ in range(4):
        page.click("#step")
    assert page.inner_text("#step-node") == "x1*w1 + x2*w2"
    chain = page.inner_text("#chain")
    assert "∂L/∂(x1*w1 + x2*w2) = ∂L/∂n · 1 = 0.5 · 1 = 0.5" in chain
    assert "tinygrad_mnist/scalar.py:" in page.inner_text("#local")
    assert page.console_errors == [] and page.blocked == []


def test_screenshot_for_the_readme(offline, tmp_path):
    g = forward_pass()
    path = viz.explore(
        g["loss"], tmp_path / "forward_pass.html", names=g, title="The course's forward pass"
    )
    page = offline
    page.set_viewport_size({"width": 1400, "height": 820})
    open_page(page, path)
    step_until(page, "W3")
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 40_000  # a real picture, not a blank page
    if os.environ.get("TINYGRAD_MNIST_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, SCREENSHOT)


@pytest.mark.parametrize("fuse", [True, False])
def test_an_mlp_with_a_batch_fused_or_not(offline, tmp_path, fuse):
    rng = np.random.default_rng(0)
    model = nn.MLP([6, 5, 4, 3], activation="sigmoid", seed=0, fuse=fuse)
    x = Tensor(rng.normal(size=(4, 6)))
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 1, 2, 1]), dtype="int64"))
    path = viz.explore(loss, tmp_path / "mlp.html", names=dict(model.named_parameters()))
    page = offline
    open_page(page, path)
    labels = page.locator("#graph svg g.node text").all_text_contents()
    assert ("linear+sigmoid" in labels) == fuse
    assert ("(fused: x @ w^T, + b, sigmoid)" in labels) == fuse
    step_until(page, "0.weight")  # the first layer's weight: the last step
    shown = [
        float(v) for v in page.get_attribute("#step-grad", "data-values").strip("[]").split(",")
    ]
    grad = model[0].weight.grad.data.reshape(-1)  # float32: the page keeps it exactly
    np.testing.assert_array_equal(np.array(shown, dtype=grad.dtype), grad)
    assert page.is_disabled("#step") and page.is_disabled("#run-all")
    page.click("#reset")
    page.click("#run-all")
    assert page.inner_text("#step-node") == "0.weight"
    assert page.console_errors == [] and page.blocked == []


# ---------------------------------------------------------------- text that fights the page
HOSTILE = '<!--<script>x</script><b>&amp; "\\N'  # HTML, and a DOT string's quote and escape


def test_a_title_and_a_name_with_html_in_them_leave_the_page_working(offline, tmp_path):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * 2).sum()
    path = viz.explore(loss, tmp_path / "g.html", names={HOSTILE: w}, title=HOSTILE)
    page = offline
    open_page(page, path)  # the script ran: the page drew the graph and said it is ready
    assert page.inner_text("h1") == HOSTILE
    assert page.title().startswith(HOSTILE)
    page.click("#run-all")
    assert page.inner_text("#step-node") == HOSTILE
    assert HOSTILE in page.locator("#graph svg g.node text").all_text_contents()
    tips = page.evaluate(
        "[...document.querySelectorAll('#graph svg g.node > g > a')]"
        ".map((a) => a.getAttributeNS('http://www.w3.org/1999/xlink', 'title'))"
    )
    assert HOSTILE + ": leaf: requires grad" in tips  # a node's tooltip: its name and kind
    assert page.console_errors == [] and page.blocked == []


# ---------------------------------------------------------------- no spoilers
def hover_texts(page) -> list[str]:
    """Everything the drawing shows or shows on hover: its texts, <title>s and link titles."""
    return page.evaluate(
        """() => {
          const svg = document.querySelector('#graph svg');
          const out = [...svg.querySelectorAll('text, title')].map((e) => e.textContent);
          for (const a of svg.querySelectorAll('a')) {
            out.push(a.getAttribute('title') || '', a.getAttributeNS('http://www.w3.org/1999/xlink', 'title') || '');
          }
          return out;
        }"""
    )


def test_no_gradient_is_shown_or_in_a_tooltip_before_its_step(course_page):
    page = course_page
    gradient = re.compile(r"grad\s*\[|grad\s+-?\d|g\[\d+\] = -?\d|∂L/∂")
    assert not [t for t in hover_texts(page) if gradient.search(t)]
    step_until(page, "W3")
    w3 = page_json(page, "data.nodes.find(x => x.name === 'W3').id")
    w1 = page_json(page, "data.nodes.find(x => x.name === 'W1').id")
    tips = page.evaluate(
        "(ids) => ids.map((id) => [...document.querySelectorAll(`[id^=a_n${id}_g_] a`)]"
        ".map((a) => a.getAttributeNS('http://www.w3.org/1999/xlink', 'title')))",
        [w3, w1],
    )
    assert tips[0][5] == "g[5] = 0.2606"  # W3's, now that backward reached it
    assert set(tips[1]) == {"g[0] = ?"} or all(t.endswith("= ?") for t in tips[1])  # W1's not yet
    page.click("#reset")
    assert not [t for t in hover_texts(page) if gradient.search(t)]


# ---------------------------------------------------------------- what each step explains
def test_softmax_step_shows_the_numbers_in_between(course_page):
    page = course_page
    step_until(page, "a3")
    chain = page.inner_text("#chain")
    assert "Σ ∂L/∂h3 ⊙ h3 = (-1.005)·0.4975 + 1.005·0.5025 = 0.005025" in chain
    assert "∂L/∂a3[0] = h3[0] · (∂L/∂h3[0] − Σ) = 0.4975 · ((-1.005) − 0.005025) = -0.5025" in chain


def test_local_derivatives_say_which_op_they_belong_to(course_page):
    page = course_page
    step_until(page, "h3")  # made by softmax, used by clamp: the step uses clamp's derivative
    assert page.inner_text("#local-heading") == "Local derivative of clamp, the op that uses h3"
    assert page.inner_text("#local").startswith("clamp (makes clamp(h3) from h3)")
    assert "softmax, which made h3" in page.inner_text("#local-note")
    step_until(page, "matmul#17")
    assert "matmul#17: a result that no variable of your code holds" in page.inner_text(
        "#step-name-note"
    )
    legend = page.inner_text("#legend")
    assert "data: the node's values" in legend and "gradient ∂L/∂node" in legend
    assert "a white cell is 0" in legend


def test_the_neuron_speaks_of_its_output_and_inputs_not_a_loss_and_parameters(offline, tmp_path):
    g = neuron()
    page = offline
    open_page(page, viz.explore(g["o"], tmp_path / "neuron.html", names=g))
    page.click("#step")
    assert "loss" not in page.inner_text("#chain") and "L below stands for o" in page.inner_text(
        "#chain"
    )
    page.click("#step")  # n: through the tanh
    assert "∂L/∂n = ∂L/∂o · (1 − tanh²(n)) = 1 · 0.5 = 0.5" in page.inner_text("#chain")
    step_until(page, "x1")
    made_by = page.inner_text("#step-made-by")
    assert "an input of the graph" in made_by and "data" in made_by


# ---------------------------------------------------------------- layout: laptop and phone
def visible_in(page, selector: str, pane: str = "#graph", margin: int = 0) -> bool:
    """Whether every element matching `selector` (if any) lies inside the pane's visible
    rectangle (that part of it that is inside the window), `margin` pixels from its sides."""
    return page.evaluate(
        """([sel, pane, m]) => {
          const p = document.querySelector(pane).getBoundingClientRect();
          const vw = window.innerWidth, vh = window.innerHeight;
          const left = Math.max(p.left, 0) + m, top = Math.max(p.top, 0) + m;
          const right = Math.min(p.right, vw) - m, bottom = Math.min(p.bottom, vh) - m;
          const els = [...document.querySelectorAll(sel)];
          return els.every((e) => {
            const r = e.getBoundingClientRect();
            return r.left >= left - 1 && r.right <= right + 1 && r.top >= top - 1 && r.bottom <= bottom + 1;
          });
        }""",
        [selector, pane, margin],
    )


def box(page, selector: str) -> dict:
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect(); "
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, "
        "height: r.height}; }",
        selector,
    )


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_the_current_step_is_in_view_with_where_its_gradient_comes_from(offline, tmp_path, size):
    width, height = size
    g = forward_pass()
    path = viz.explore(g["loss"], tmp_path / "fp.html", names=g, title="The course's forward pass")
    page = offline
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, path)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out
    pane, panel = box(page, "#graph"), box(page, "#panel")
    assert pane["width"] >= 0.6 * width and pane["height"] >= 0.4 * height
    if width < 600:  # stacked: the graph above, the panel below it, as wide as the screen
        assert panel["top"] >= pane["bottom"] - 1 and panel["width"] >= width - 2
    else:
        assert panel["left"] >= pane["right"] - 1 and panel["right"] <= width + 1
    total = page_json(page, "data.steps.length")
    for _ in range(total):  # every step
        page.click("#step")
        name = page.inner_text("#step-node")
        assert page.locator("#graph svg g.node.current").count() == 1
        assert visible_in(page, "#graph svg g.node.current", margin=20), name
        assert visible_in(page, "#graph svg g.node.source-of-grad"), name
        assert visible_in(page, "#graph svg g.edge.carrying"), name
        assert visible_in(page, "#step", "body"), name  # the button stays within reach
        outline = page.evaluate(
            "getComputedStyle(document.querySelector('#graph svg g.node.current > g > a > path')"
            ").stroke"
        )
        assert outline == "rgb(208, 138, 0)", name  # drawn in orange
    page.click("#fit")  # the whole graph in the pane
    svg = box(page, "#graph svg")
    assert svg["width"] <= pane["width"] + 1 and svg["height"] <= pane["height"] + 1
    page.click("#fit")
    assert box(page, "#graph svg")["width"] > svg["width"]
    page.click("#zoom-in")
    assert page.console_errors == [] and page.blocked == []
