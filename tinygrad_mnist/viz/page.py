"""The explorer's page: one HTML file holding the graph, the recorded numbers and the code.

Python writes everything the page shows: the Graphviz DOT source of the graph (each node a
table with its name, op, value, heat maps and gradient), and the recorded numbers as JSON.
The page's JavaScript (explorer.js) only lays the DOT out with Graphviz (the bundled
@viz-js/viz, WebAssembly) and reveals the recorded numbers step by step; it never computes a
derivative. The bundled library, the script and the style are inlined, so the file works
from file:// with no server and no network.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from importlib import resources
from typing import Any

import numpy as np

from . import formulas
from .graph_record import Edge, Node, Recording

HEAT_ROWS, HEAT_COLS = 12, 16  # at most this many cells of a heat map are drawn
RANKDIRS = ("LR", "TB")
# The most nodes a page may have: Graphviz (in WebAssembly) lays a graph out in a time that
# grows faster than its size; docs/explorer.md gives the times measured in Chromium.
MAX_NODES = 2000
HIDDEN_GRAD = "#d9d9d9"  # a gradient's heat-map cell before backward reaches it
# Helvetica's width of a digit or sign, in font sizes (a little over, so that a gradient's
# text fits the room kept for it while it reads "grad ?")
GLYPH_WIDTH = 0.62


def _asset(name: str) -> str:
    return resources.files("tinygrad_mnist.viz").joinpath(name).read_text(encoding="utf-8")


def _vendored_viz_js() -> str:
    """@viz-js/viz's dist/viz-global.js, unmodified; shipped gzip-compressed (479 KB instead
    of 1.33 MB in the package and the repository) and inflated for each page."""
    packed = resources.files("tinygrad_mnist.viz").joinpath("vendor/viz-global.js.gzip")
    return gzip.decompress(packed.read_bytes()).decode("utf-8")


def _few(values: np.ndarray, count: int = 3) -> str:
    flat = values.reshape(-1)
    shown = ", ".join(_num(v) for v in flat[:count])
    return f"[{shown}{', …' if flat.size > count else ''}]"


def _num(v: float) -> str:
    text = f"{float(v):.4g}"
    return "0" if text == "-0" else text


def _color(v: float, scale: float) -> str:
    """White at 0, red for positive and blue for negative values, full at |v| = scale."""
    if scale == 0 or not np.isfinite(v):
        return "#ffffff"
    t = max(-1.0, min(1.0, float(v) / scale))
    end = (214, 96, 77) if t > 0 else (67, 147, 195)
    rgb = [round(255 + (c - 255) * abs(t)) for c in end]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heat_grid(shape: tuple[int, ...]) -> tuple[int, int, list[int]]:
    """(rows, cols, flat indices) of the cells drawn for an array of `shape`: up to
    HEAT_ROWS x HEAT_COLS from the top-left corner (rows are the first axis, the rest flat);
    a vector is one row of up to 2 HEAT_COLS cells."""
    if len(shape) == 0:
        return 0, 0, []
    rows_all = shape[0] if len(shape) > 1 else 1
    cols_all = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    rows, cols = min(rows_all, HEAT_ROWS), min(cols_all, HEAT_COLS * (2 if rows_all == 1 else 1))
    return rows, cols, [r * cols_all + c for r in range(rows) for c in range(cols)]


def heat_colors(values: np.ndarray, shape: tuple[int, ...]) -> list[tuple[int, str]]:
    """(flat index, colour) of each cell drawn, scaled to the largest |value| of the array."""
    _, _, cells = heat_grid(shape)
    flat = values.reshape(-1)
    scale = float(np.max(np.abs(flat))) if flat.size else 0.0
    return [(k, _color(flat[k], scale)) for k in cells]


def _heat_rows(node: Node, values: np.ndarray, prefix: str) -> list[str]:
    """A heat map's rows. The gradient's ("g") are drawn grey and without numbers: the page
    colours them and fills in their tooltips when backward reaches the node."""
    rows, cols, cells = heat_grid(node.data.shape)
    flat = values.reshape(-1)
    colors = dict(heat_colors(values, node.data.shape))
    size = 10 if cols <= 8 else 7
    out = []
    for r in range(rows):
        tds = []
        for c in range(cols):
            k = cells[r * cols + c]
            if prefix == "g":
                tip, color = f"g[{k}] = ?", HIDDEN_GRAD
            else:
                tip, color = f"{prefix}[{k}] = {flat[k]:.6g}", colors[k]
            tds.append(
                f'<TD ID="n{node.id}_{prefix}_{k}" TOOLTIP="{tip}" '
                f'BGCOLOR="{color}" WIDTH="{size}" HEIGHT="{size}" '
                f'FIXEDSIZE="TRUE"></TD>'
            )
        name = "" if r else f'<FONT POINT-SIZE="8">{prefix}</FONT>'  # (an empty FONT is an error)
        out.append(f"<TR><TD>{name}</TD>{''.join(tds)}</TR>")
    return out


def _text_row(
    text: str,
    span: int,
    cell_id: str = "",
    size: int = 0,
    bold: bool = False,
    tip: str = "",
    width: int = 0,
) -> str:
    # Graphviz reads backslash escapes in a label's text (\N is the node's id): "\\" is one
    text, tip = text.replace("\\", "\\\\"), tip.replace("\\", "\\\\")
    body = html.escape(text).replace("\n", "<BR/>")
    if bold:
        body = f"<B>{body}</B>"
    if size:
        body = f'<FONT POINT-SIZE="{size}">{body}</FONT>'
    ident = f' ID="{cell_id}" TOOLTIP="{html.escape(tip or text)}"' if cell_id else ""
    if width:
        ident += f' WIDTH="{width}"'
    return f'<TR><TD COLSPAN="{span}"{ident}>{body}</TD></TR>'


def _what(node: Node) -> str:
    if node.op:
        return node.op
    if node.scalar:
        return "leaf"
    if node.requires_grad:
        return "leaf: requires grad"
    return "constant: no gradient" if node.name.startswith("constant") else "leaf: no gradient"


def grad_text(node: Node) -> str | None:
    """The gradient's line in the node's box, shown once backward has reached the node."""
    if node.grad is None:
        return None
    grad = node.grad
    return f"grad {_num(grad.reshape(-1)[0]) if grad.size == 1 else _few(grad)}"


def node_label(node: Node) -> str:
    """The node's HTML-like Graphviz label: name, op, value (+ heat map), gradient (+ map)."""
    _, cols, _ = heat_grid(node.data.shape)
    span = cols + 1
    rows = [_text_row(node.name, span, size=11, bold=True), _text_row(_what(node), span, size=9)]
    if node.scalar or node.data.size == 1:
        rows.append(_text_row(f"data {_num(node.data.reshape(-1)[0])}", span, size=9))
    else:
        shape = "×".join(str(n) for n in node.data.shape)
        rows.append(_text_row(f"{shape}  data {_few(node.data)}", span, size=9))
        rows += _heat_rows(node, node.data, "d")
    if node.grad is not None:  # "grad ?" until the page reveals it (grad_text, heat_colors)
        # as wide as the text it will show (a TD's WIDTH is its minimum width, in points)
        width = round(len(grad_text(node) or "") * 9 * GLYPH_WIDTH)
        tip = "the gradient: shown when backward reaches this node"
        rows.append(
            _text_row("grad ?", span, cell_id=f"n{node.id}_grad", size=9, tip=tip, width=width)
        )
        if not (node.scalar or node.grad.size == 1):
            rows += _heat_rows(node, node.grad, "g")
    table = "".join(rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">{table}</TABLE>>'


def _dot_string(text: str) -> str:
    """A DOT quoted string for a tooltip. A backslash is written as four: the DOT reader
    halves them, then the escString reader (where \\N stands for the node's id) again; and
    & as &amp;, since Graphviz copies an entity such as &amp; into the SVG as it is."""
    text = text.replace("&", "&amp;").replace("\\", "\\" * 4)
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(rec: Recording, rankdir: str = "LR") -> str:
    """The graph as DOT: inputs on the left (or top), the loss on the right (or bottom).
    It holds no gradient: the page shows each one when backward reaches its node."""
    lines = [
        "digraph explorer {",
        f"  rankdir={rankdir}; nodesep=0.12; ranksep=0.25;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10, margin="0.04,0.02"];',
        '  edge [color="#888888", arrowsize=0.6];',
    ]
    for node in rec.nodes:
        fused = "\n" in node.op
        style = ', style="rounded,bold", color="#7b3294"' if fused else ""
        tip = _dot_string(f"{node.name}: {_what(node)}".replace("\n", " "))
        lines.append(
            f'  n{node.id} [id="n{node.id}", tooltip={tip}, label={node_label(node)}{style}];'
        )
    for node in rec.nodes:
        for index, parent in enumerate(node.parents):
            lines.append(f'  n{parent} -> n{node.id} [id="e{parent}_{node.id}_{index}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _flat(a: np.ndarray | None) -> list[float | str] | None:
    """The array's numbers in flat (C) order, exactly; inf and nan as the strings JavaScript's
    Number() reads ("Infinity", "NaN"), since JSON has no such numbers."""
    if a is None:
        return None
    if a.dtype == np.float32:  # 9 significant digits give back the very same float32
        return [_number(float(f"{v:.9g}")) for v in a.reshape(-1)]
    return [_number(v) for v in a.reshape(-1)]


def _number(v: float) -> float | str:
    if np.isfinite(v):
        return float(v)
    return "NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _edge_json(rec: Recording, edge: Edge) -> dict[str, Any]:
    # The gradient arriving along the edge is the consumer's own (the page reads it there).
    consumer = rec.nodes[edge.consumer]
    inputs = [rec.nodes[p].name for p in consumer.parents]
    formula = formulas.local_formula(consumer.formulas, edge.index, inputs, consumer.name)
    return {
        "consumer": edge.consumer,
        "parent": edge.parent,
        "index": edge.index,
        "kind": edge.kind,
        "contribution": _flat(edge.contribution),
        "local": _flat(edge.local),
        "terms": None
        if edge.terms is None
        else [[[_number(p), _number(q)] for p, q in pairs] for pairs in edge.terms],
        "termsTotal": edge.terms_total,
        "formula": formula,
        "factor": formulas.as_factor(formula),
        "rows": None
        if edge.rows is None
        else [
            {
                **row,
                "terms": [[_number(p), _number(q)] for p, q in row["terms"]],
                **{k: _number(row[k]) for k in ("sum", "y", "expY", "g")},
            }
            for row in edge.rows
        ],
        "source": edge.source.to_json() if edge.source else None,
    }


def page_data(rec: Recording, title: str, rankdir: str = "LR") -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (numbers exactly as the engine made them)."""
    nodes = [
        {
            "id": n.id,
            "name": n.name,
            "op": n.op,
            "opClass": n.op_class,
            "shape": list(n.data.shape),
            "data": _flat(n.data),
            "grad": _flat(n.grad),
            "gradText": grad_text(n),
            "gradCells": None if n.grad is None else heat_colors(n.grad, n.data.shape),
            "requiresGrad": n.requires_grad,
            "parents": n.parents,
        }
        for n in rec.nodes
    ]
    edges = [_edge_json(rec, e) for e in rec.edges]
    into: dict[int, list[int]] = {}
    for i, e in enumerate(rec.edges):
        into.setdefault(e.parent, []).append(i)
    steps = [{"node": i, "edges": into.get(i, [])} for i in rec.order]
    return {
        "title": title,
        "tier": rec.tier,
        "start": rec.nodes[rec.order[0]].name if rec.order else "",
        "dot": to_dot(rec, rankdir),
        "nodes": nodes,
        "edges": edges,
        "steps": steps,
    }


def script_json(value: Any) -> str:
    """`value` as JSON that can sit inside a <script> element whatever text it holds: <, >
    and & are written as \\u003c, \\u003e and \\u0026 (the same string to JSON.parse). A bare
    `</script` would end the element, and `<!--<script` would put the HTML parser in a state
    where the real `</script>` no longer ends it, so that no script of the page ever runs."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render_html(rec: Recording, title: str, rankdir: str = "LR") -> str:
    """The whole self-contained page."""
    data = script_json(page_data(rec, title, rankdir))
    page = _asset("explorer.html")
    parts = {
        "{{TITLE}}": html.escape(title),
        "{{NODES}}": f"{len(rec.nodes):,}",
        "{{STYLE}}": _asset("explorer.css"),
        "{{DATA}}": data,
        "{{VIZ_JS}}": _vendored_viz_js().replace("</script", "<\\/script"),
        "{{EXPLORER_JS}}": _asset("explorer.js"),
    }
    # One pass, so that text inside one part is never taken for another part's placeholder.
    return re.sub(r"\{\{[A-Z_]+\}\}", lambda m: parts.get(m.group(0), m.group(0)), page)
