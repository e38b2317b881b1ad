"""Drawing a computation graph (of scalar `Value`s or of `Tensor`s) as Graphviz DOT text.

Seeing the graph is the quickest way to understand backward(): every value is a box with
its data and grad, every operation a small circle (a fused op, which lists its parts, a
rounded box), and arrows run from inputs through the op to its result. We only produce DOT text ourselves; turning it into a picture needs the
`dot` program from Graphviz, which is optional (no Python package needed).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

RANKDIRS = ("LR", "RL", "TB", "BT")
FORMATS = ("svg", "png", "pdf", "dot")
NO_GRAPHVIZ = (
    "Graphviz is not installed: the `dot` program was not found on PATH, so {path} could "
    "not be rendered. Install it with `apt-get install graphviz` (Debian/Ubuntu) or "
    "`brew install graphviz` (macOS), or paste the DOT text from {dot_path} into an online "
    "Graphviz viewer."
)


def escape_record(text: str) -> str:
    """Escape text for a field of a record label: \\ and " for the DOT string, and the
    characters that records treat as structure ({ } | < >)."""
    for ch in '\\"{}|<>':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def escape_plain(text: str) -> str:
    """Escape text for an ordinary quoted DOT label (only \\ and " are special there)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _inputs_and_op(node: Any) -> tuple[tuple[Any, ...], str]:
    """The nodes a node was computed from, and the op's name ('' for a leaf).

    A scalar Value keeps them as `_prev` / `_op`; a Tensor keeps the Function that made
    it in `_ctx`, whose `.parents` are its inputs and whose class name is the op.
    A fused op names itself and its parts (e.g. "linear+sigmoid" for one ops.linear.FusedLinear,
    see nn/fusion.py) through `graph_label()`, so the drawing says what actually ran.
    """
    if hasattr(node, "_prev"):
        return tuple(node._prev), node._op
    ctx = getattr(node, "_ctx", None)
    if ctx is None:
        return (), ""
    label = getattr(ctx, "graph_label", None)
    return tuple(ctx.parents), label() if label else type(ctx).__name__


def _few_numbers(array: Any, count: int = 4) -> str:
    flat = array.reshape(-1)
    shown = ", ".join(f"{float(v):.4g}" for v in flat[:count])
    return f"[{shown}{', ...' if flat.size > count else ''}]"


def _fields(node: Any, label: str) -> list[str]:
    """What a value's box shows: `label` (when not empty), then data and grad."""
    fields = [label] if label else []
    if hasattr(node, "_prev"):  # scalar Value
        fields += [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
    else:  # Tensor: its size and type, then only a few numbers of data and grad
        fields.append(f"shape {tuple(node.shape)} {node.dtype}")
        fields.append(f"data {_few_numbers(node.data)}")
        grad = "None" if node._grad is None else _few_numbers(node._grad.data)  # no warning
        fields.append(f"grad {grad}")
    return fields


def _record_label(node: Any, name: str = "") -> str:
    """A value's box as a record label: its name (from draw_dot's `names`) or its own label,
    then data and grad."""
    fields = _fields(node, name or getattr(node, "label", ""))
    return "{ " + " | ".join(escape_record(f) for f in fields) + " }"


class DotGraph:
    """Graphviz DOT source of a graph; print it, or render() it to an SVG/PNG file.

    In Jupyter it shows itself inline: as a picture (`_repr_svg_`) when Graphviz is installed,
    otherwise as the readable text listing of `text` (`_repr_html_`, and `repr`).
    """

    def __init__(self, source: str, text: str = "") -> None:
        self.source = source
        self.text = text or source
        self._svg: str | None | bool = False  # not rendered yet

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return self.text

    def _repr_svg_(self) -> str | None:
        # Jupyter shows this inline; None (no Graphviz) makes it fall back to the HTML text.
        if self._svg is False:
            dot = shutil.which("dot")
            run = None
            if dot is not None:
                run = subprocess.run(
                    [dot, "-Tsvg"], input=self.source, capture_output=True, text=True
                )
            self._svg = run.stdout if run is not None and run.returncode == 0 else None
        return self._svg  # type: ignore[return-value]

    def _repr_html_(self) -> str | None:
        # Jupyter prefers HTML to SVG, so offer HTML only when there is no picture.
        if self._repr_svg_() is not None:
            return None
        return f"<pre>{html.escape(self.text)}</pre>"

    def render(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the picture to `path` (format from its suffix unless given) and return it.

        The .dot source is always written beside it first, so it is there to look at even
        when Graphviz is missing. Both files are replaced atomically (no half-written file).
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "svg").lower()
        if fmt not in FORMATS:
            raise ValueError(f"unsupported format {fmt!r}; choose one of {', '.join(FORMATS)}")
        dot_path = path if fmt == "dot" else path.with_suffix(".dot")
        if fmt != "dot" and dot_path == path:
            raise ValueError(f"{path} would be overwritten by its own .dot source")
        _write_atomically(dot_path, self.source.encode())
        if fmt == "dot":
            return path
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(NO_GRAPHVIZ.format(path=path, dot_path=dot_path))
        run = subprocess.run([dot, f"-T{fmt}", str(dot_path)], capture_output=True)
        if run.returncode != 0:
            raise RuntimeError(f"dot failed on {dot_path}: {run.stderr.decode().strip()}")
        _write_atomically(path, run.stdout)
        return path


def _write_atomically(path: Path, content: bytes) -> None:
    # Write a temporary file in the same directory, then rename it over the target: a
    # reader never sees a half-written file, even if we are interrupted.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def draw_dot(root: Any, rankdir: str = "LR", names: Mapping[str, Any] | None = None) -> DotGraph:
    """The graph that produced `root` (a Value or a Tensor): boxes for values, circles for
    ops, and edges input -> op -> result. rankdir "LR" lays it out left to right.

    `names` maps your variable names to the graph's tensors or values, e.g.
    `draw_dot(loss, names={"W1": W1, "h1": h1, "loss": loss})`: each such box shows its name,
    and the text listing calls it by that name instead of v0, v1, ... (as `viz.explore` does).
    Two names for one node: the last wins. Names of things not in the graph are ignored.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    given = _names_by_id(names)
    ids: dict[int, str] = {}  # id(node) -> DOT node name, in the order we find them
    found: list[Any] = []
    stack = [root]
    while stack:  # an explicit stack, so deep graphs don't hit the recursion limit
        node = stack.pop()
        if id(node) not in ids:
            ids[id(node)] = f"v{len(found)}"
            found.append(node)
            stack.extend(reversed(_inputs_and_op(node)[0]))
    _name_views(found, names or {}, given)

    lines = ["digraph G {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];']
    for node in found:
        name = ids[id(node)]
        label = _record_label(node, given.get(id(node), ""))
        lines.append(f'  {name} [shape=record, label="{label}"];')
        inputs, op = _inputs_and_op(node)
        if inputs:
            shape = "circle" if "\n" not in op else "box, style=rounded"  # a fused op's parts
            lines.append(f'  {name}_op [shape={shape}, label="{escape_plain(op)}"];')
            lines += [f"  {ids[id(child)]} -> {name}_op;" for child in inputs]
            lines.append(f"  {name}_op -> {name};")
    lines.append("}")
    shown = {key: given.get(key, vname) for key, vname in ids.items()}
    return DotGraph("\n".join(lines) + "\n", _text_listing(found, shown, given))


def _names_by_id(names: Mapping[str, Any] | None) -> dict[int, str]:
    """id(node) -> the name given to it; a clear error for anything but {str: node}."""
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(
            "names must map names to the graph's tensors or values, e.g. "
            f"names={{'W1': W1, 'h1': h1}}; got {type(names).__name__}"
        )
    out: dict[int, str] = {}
    for key, node in names.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"names: every name must be a non-empty str, got {key!r}")
        out[id(node)] = key
    return out


def _name_views(found: list[Any], names: Mapping[str, Any], given: dict[int, str]) -> None:
    """`x @ W1` reshapes x into a new tensor outside the graph when x needs no grad: that
    leaf is still "x". Name each unnamed tensor leaf after a named tensor it is a view of."""
    for node in found:
        if id(node) in given or hasattr(node, "_prev") or _inputs_and_op(node)[0]:
            continue
        for key, named in names.items():
            data = getattr(named, "data", None)
            if isinstance(data, np.ndarray) and data.size == node.data.size:
                if np.shares_memory(data, node.data):
                    given[id(node)] = key
                    break


def _text_listing(found: list[Any], shown: dict[int, str], given: dict[int, str]) -> str:
    """The graph as text, one value per line, inputs before the values computed from them:
    what a notebook shows when Graphviz is missing. A node is called by its given name, else
    by its DOT name (v0, v1, ...)."""
    order: list[Any] = []
    done: set[int] = set()
    for start in reversed(found):  # leaves come late in `found`; walk so inputs go first
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in _inputs_and_op(node)[0] if id(c) not in done)
    ops = sum(1 for n in order if _inputs_and_op(n)[0])
    out = [f"graph of {len(order)} values and {ops} ops, inputs first:"]
    for node in order:
        inputs, op = _inputs_and_op(node)
        # a given name is already the line's first word, so the fields leave it out
        label = "" if id(node) in given else getattr(node, "label", "")
        desc = "  ".join(f.replace("\n", " ") for f in _fields(node, label))
        if inputs:
            args = ", ".join(shown[id(c)] for c in inputs)
            desc = f"{op.replace(chr(10), ' ')}({args})  {desc}"
        out.append(f"  {shown[id(node)]} = {desc}")
    return "\n".join(out)
