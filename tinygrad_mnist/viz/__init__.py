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

Names: the page calls each node by the name you give it in `names` (a mapping, a model whose
parameters are then called "0.weight", ..., or (name, tensor) pairs), else by the name of the
caller's local variable that holds it (`W1 = ...; viz.explore(loss)` shows "W1"), else by its
label (a Value's), else after the op that made it and its number in the graph ("matmul#17").
"""

from __future__ import annotations

import errno
import html
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic_file import write_bytes_atomic
from ..scalar import Value
from ..tensors.tensor import Tensor
from .graph_record import ExploreError, check_text, record
from .page import MAX_NODES, RANKDIRS, render_html

__all__ = [
    "ExplorerPage", "ExploreError", "PageWritten", "check_output_path", "explore", "write_page"
]  # fmt: skip


TEMPORARY_EXTRA = 24


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


@dataclass(frozen=True)
class PageWritten:
    path: ExplorerPage
    nodes: int
    size_bytes: int


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The page's path, checked before any work: an .html file in an existing folder."""
    try:
        p = Path(path)
    except TypeError:
        raise ExploreError(f"path must be a str or a Path, not {type(path).__name__}") from None
    check_text("the path", str(p))
    if p.suffix.lower() not in (".html", ".htm"):
        raise ExploreError(f"the explorer writes an .html file, not {str(p)!r}")
    parent = p.parent if str(p.parent) else Path(".")
    try:
        if p.is_dir():
            raise ExploreError(f"{_short(p)} is a folder; give the path of an .html file in it")
        if not parent.is_dir():
            raise ExploreError(f"cannot write {_short(p)}: the folder {parent} does not exist")
    except OSError as e:  # a name too long, a loop of links...
        raise ExploreError(f"cannot write {_short(p)}: {_reason(e)}") from None
    if not os.access(parent, os.W_OK):
        raise ExploreError(f"cannot write {_short(p)}: the folder {parent} is not writable")
    try:  # the longest file name the folder's file system takes (255 bytes almost everywhere)
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    # atomic_file first writes a temporary file beside the page, named after it with up to
    # TEMPORARY_EXTRA more bytes (".NAME.<pid>.<8 hex digits>.tmp")
    size = len(os.fsencode(p.name))
    if size + TEMPORARY_EXTRA > name_max:
        raise ExploreError(
            f"cannot write {_short(p)}: the file name is too long ({size} bytes; this file "
            f"system takes {name_max}, and the temporary file's name {TEMPORARY_EXTRA} more)"
        )
    return p


def _reason(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return (e.strerror or str(e)).lower()


def _short(p: Path) -> str:
    text = str(p)
    return text if len(text) <= 80 else text[:40] + "…" + text[-30:]


def _is_model(value: Any) -> bool:
    """A model instance (not a class, whose named_parameters needs an instance)."""
    return not isinstance(value, type) and callable(getattr(value, "named_parameters", None))


def _names(names: Any, caller: dict[str, Any] | None) -> dict[str, Any]:
    """name -> Tensor or Value, from `names` first, then the caller's local variables."""
    found: dict[str, Any] = {}
    if caller:  # a model in a local variable `model` gives "model.0.weight", ...
        for var, value in list(caller.items()):
            if var.startswith("_") or not isinstance(var, str):
                continue
            if isinstance(value, Tensor | Value):
                found.setdefault(var, value)
            elif _is_model(value):
                try:
                    params = list(value.named_parameters())
                except Exception:  # someone else's object: a name is not worth an error
                    continue
                for pname, param in params:
                    if isinstance(pname, str) and isinstance(param, Tensor):
                        found.setdefault(f"{var}.{pname}", param)
    given: dict[str, Any]
    if names is None:
        given = {}
    elif _is_model(names):
        given = dict(names.named_parameters())  # a model: "0.weight", "0.bias", ...
    elif isinstance(names, Mapping):
        given = dict(names)
    elif isinstance(names, Iterable) and not isinstance(names, str | bytes):
        try:
            given = dict(names)
        except (TypeError, ValueError):
            raise ExploreError("names must be a mapping, a model or (name, tensor) pairs") from None
    else:
        raise ExploreError(f"names must be a mapping, a model or pairs, not {type(names).__name__}")
    for name in given:
        check_text("names", name)
    # a name given wins over a local variable's for the same node
    taken = {id(v) for v in given.values()}
    return given | {k: v for k, v in found.items() if id(v) not in taken and k not in given}


def explore(
    loss: Any,
    path: str | os.PathLike[str] = "graph.html",
    names: Mapping[str, Any] | Iterable[tuple[str, Any]] | Any | None = None,
    title: str = "autograd explorer",
    rankdir: str = "LR",
    caller_names: bool = True,
) -> ExplorerPage:
    """Run backward from `loss` and write the explorer page to `path`; return the path, as an
    ExplorerPage: in a notebook, the cell's value shows the page inline.

    `loss` is a one-element Tensor (with a graph: requires_grad) or a scalar Value.
    `names` maps names to the graph's tensors or values (e.g. {"W1": W1, "h1": h1}), or is a
    model (its parameters are named as by `model.named_parameters()`: "0.weight", ...).
    With `caller_names` (the default), a node that `names` leaves out is named after the
    caller's local variable that holds it (a model `model` names "model.0.weight", ...).
    A Value is also named by its `label`, and every other node by its op ("sigmoid#7").
    `rankdir` "LR" puts the inputs on the left and the loss on the right, "TB" top to bottom.
    A graph of more than page.MAX_NODES nodes is refused (ExploreError): see docs/explorer.md.
    """
    caller = sys._getframe(1).f_locals if caller_names else None
    return write_page(loss, path, _names(names, caller), title, rankdir).path


def write_page(
    loss: Any,
    path: str | os.PathLike[str],
    names: Mapping[str, Any],
    title: str = "autograd explorer",
    rankdir: str = "LR",
    max_nodes: int = MAX_NODES,
) -> PageWritten:
    """explore()'s work, with the names already found: the page's path, nodes and size."""
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ExploreError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    check_text("title", title)
    target = check_output_path(path)
    recording = record(loss, dict(names), max_nodes)
    text = render_html(recording, title, rankdir)
    page = text.encode("utf-8")
    try:
        write_bytes_atomic(target, page)
    except OSError as e:
        raise ExploreError(f"cannot write {_short(target)}: {_reason(e)}") from None
    shown = ExplorerPage(target)
    shown.page_html = text
    return PageWritten(shown, len(recording.nodes), len(page))
