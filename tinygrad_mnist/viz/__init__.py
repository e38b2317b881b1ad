"""The autograd explorer: watch backpropagation run on your own graph, in a browser.

    from tinygrad_mnist import viz
    viz.explore(loss, path="graph.html")             # a Tensor or a Value graph
    tinygrad-mnist viz --example forward_pass        # the course's worked example

writes one self-contained HTML file (no server, no network: open it from file://). It shows
the graph from the inputs to the loss; **Step backward** walks it in reverse topological
order, one node per click, showing the chain-rule product with the actual numbers, the local
derivative's formula and the file:line where this project defines it; **Run all** does the
whole pass. All numbers come from the engine's own forward and backward run (graph_record.py),
serialised into the page; the page's script only shows them (page.py, explorer.js).
In Jupyter or Colab, what explore() returns shows the page inline, as the value of the cell.

explore() runs the backward pass itself, as `loss.backward()` would: leaves get this pass's
gradient (added to any they had), and the graph's saved arrays are freed afterwards.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic_file import write_bytes_atomic
from .graph_record import ExploreError, record
from .page import RANKDIRS, render_html

__all__ = ["ExplorerPage", "ExploreError", "check_output_path", "explore"]


class ExplorerPage(type(Path())):  # type: ignore[misc]  # PosixPath or WindowsPath
    """The path of the page explore() wrote, which a notebook also shows inline.

    `_repr_html_` is an iframe whose `srcdoc` holds the whole page, so it needs no server, no
    file access and no network (Colab shows a file of the runtime no other way). The iframe
    is sandboxed: the page's script runs, but cannot reach the notebook around it.
    """

    page_html: str | None = None  # paths derived from this one (.parent, ...) have no page

    def _repr_html_(self) -> str | None:
        if self.page_html is None:
            return None
        return (
            f'<iframe srcdoc="{html.escape(self.page_html, quote=True)}" '
            'sandbox="allow-scripts" style="width: 100%; height: 640px; '
            'border: 1px solid #ccc" title="autograd explorer"></iframe>'
        )


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The page's path, checked before any work: an .html file in an existing folder."""
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise ExploreError(f"the explorer writes an .html file, not {str(p)!r}")
    if p.is_dir():
        raise ExploreError(f"{p} is a folder; give the path of an .html file in it")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ExploreError(f"cannot write {p}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ExploreError(f"cannot write {p}: the folder {parent} is not writable")
    return p


def explore(
    loss: Any,
    path: str | os.PathLike[str] = "graph.html",
    names: Mapping[str, Any] | None = None,
    title: str = "autograd explorer",
    rankdir: str = "LR",
) -> ExplorerPage:
    """Run backward from `loss` and write the explorer page to `path`; return the path, as an
    ExplorerPage: in a notebook, the cell's value shows the page inline.

    `loss` is a one-element Tensor (with a graph: requires_grad) or a scalar Value.
    `names` maps names to the graph's tensors or values (e.g. {"W1": W1, "h1": h1}); a Value
    is also named by its `label`, and every other node by its op ("sigmoid#7").
    `rankdir` "LR" puts the inputs on the left and the loss on the right, "TB" top to bottom.
    """
    if rankdir not in RANKDIRS:
        raise ExploreError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    target = check_output_path(path)
    recording = record(loss, dict(names or {}))
    page = render_html(recording, title, rankdir)
    write_bytes_atomic(target, page.encode("utf-8"))
    shown = ExplorerPage(target)
    shown.page_html = page
    return shown
