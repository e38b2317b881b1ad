"""The explorer inline in a notebook: `viz.explore(...)`'s `_repr_html_` is an iframe whose
srcdoc holds the whole page. Opened in headless Chromium, offline, the page inside the
sandboxed iframe must draw the graph and step backward, as it does from its own file."""

from __future__ import annotations

import html
import re

import pytest

from tinygrad_mnist import viz
from tinygrad_mnist.worked_examples import forward_pass


def test_the_returned_page_is_the_written_file_and_an_iframe_of_it(tmp_path):
    g = forward_pass()
    page = viz.explore(g["loss"], tmp_path / "fp.html", names=g)
    assert isinstance(page, viz.ExplorerPage) and page == tmp_path / "fp.html"
    written = page.read_text(encoding="utf-8")
    assert page.page_html == written
    frame = page._repr_html_()
    assert frame.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and frame.endswith("</iframe>")
    assert 'sandbox="allow-scripts"' in frame
    # the srcdoc attribute is the whole page, escaped: no raw quote in it ends it early
    srcdoc = re.match(r'<iframe srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc) == written
    assert page.parent._repr_html_() is None  # a path derived from it is only a path


def test_the_iframe_runs_the_explorer_offline(page, tmp_path):
    page.blocked = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.context.set_offline(True)
    g = forward_pass()
    shown = viz.explore(g["loss"], tmp_path / "fp.html", names=g)
    notebook = tmp_path / "notebook_output.html"  # what Jupyter puts around a cell's HTML
    notebook.write_text(f"<!DOCTYPE html><html><body>{shown._repr_html_()}</body></html>")
    page.goto(notebook.as_uri())
    frame = page.frame_locator("iframe")
    frame.locator("body[data-ready=true]").wait_for(timeout=30_000)
    assert frame.locator("#graph svg g.node").count() > 0
    for _ in range(100):
        frame.locator("#step").click()
        if frame.locator("#step-node").inner_text() == "h2":
            break
    else:
        pytest.fail("Step backward never reached h2")
    # the worked example's key result: dL/dh2 = 0, since both columns of W3 are equal
    assert frame.locator("#step-grad").get_attribute("data-values").strip("[]").split(",") == [
        "0",
        "0",
        "0",
    ]
    assert page.blocked == [] and page.console_errors == []
