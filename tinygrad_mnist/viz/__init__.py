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

explore() runs the backward pass itself, as `loss.backward()` would: leaves get this pass's
gradient (added to any they had), and the graph's saved arrays are freed afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic_file import write_bytes_atomic
from .graph_record import ExploreError, record
from .page import RANKDIRS, render_html

__all__ = ["ExploreError", "check_output_path", "explore"]


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
) -> Path:
    """Run backward from `loss` and write the explorer page to `path`; return the path.

    `loss` is a one-element Tensor (with a graph: requires_grad) or a scalar Value.
    `names` maps names to the graph's tensors or values (e.g. {"W1": W1, "h1": h1}); a Value
    is also named by its `label`, and every other node by its op ("sigmoid#7").
    `rankdir` "LR" puts the inputs on the left and the loss on the right, "TB" top to bottom.
    """
    if rankdir not in RANKDIRS:
        raise ExploreError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    target = check_output_path(path)
    recording = record(loss, dict(names or {}))
    write_bytes_atomic(target, render_html(recording, title, rankdir).encode("utf-8"))
    return target
