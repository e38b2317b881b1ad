"""Recording one real backward pass of the engine, node by node and edge by edge.

The explorer's page only shows numbers; every one of them is recorded here from the engine:
- each node's value (`data`) and its gradient after the engine's own `backward()`;
- for each edge (an op's output -> one of its inputs), what the chain rule passed along it:
  the gradient arriving at the op's output (`upstream`), the op's own backward applied to it
  (`contribution`; a node's gradient is the sum of the contributions of its edges), and,
  where the op is elementwise, its local derivative (`local`).

Tensor tier: `backward(retain_graph=True)` runs with `retain_grad()` on every inner tensor,
so the engine itself fills every node's `.grad`. The arrays each op saved are then still
there (issue 12 frees them after backward), so each op's `backward` is called once more on
the gradient that reached it, which gives the contribution to each input; on an array of
ones, it gives an elementwise op's local derivative (backward is linear in the incoming
gradient). Then the saved arrays are freed, as a plain `backward()` would have done.

Scalar tier: `Value.backward()` fills every node's grad; each node keeps its local
derivatives in `_local_grads`, and the contribution along an edge is `local * grad`, the
very product that `Value._backward` adds to the input's grad.

Both tiers: this is one backward pass, as if `loss.backward()` had been called. Every
gradient is recorded from a clean start: a leaf that had a gradient already, or an inner
tensor that kept one through `retain_grad()` and an earlier `backward(retain_graph=True)`,
is set to None first and gets this pass's gradient added to its old one afterwards, as
backward() would have done (recording the sum would show every number twice as big).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.function import FREED, Function
from ..ops import matmul, softmax
from ..scalar import Value
from ..tensors.tensor import Tensor
from . import derivative_source, formulas
from .derivative_source import SourceLine

MAX_EXPANDED = 64  # matmul sums are written out for this many elements of each input
MAX_TERMS = 8  # and with at most this many terms each


class ExploreError(ValueError):
    """The graph cannot be explored (not a Value or Tensor, not one number, already freed,
    too big for a browser, text that cannot be written): a one-line message for people."""


def check_text(what: str, text: object) -> str:
    """`text` as a str that UTF-8 can hold (a lone surrogate, e.g. from a file name decoded
    with errors="surrogateescape", cannot be written into the page)."""
    if not isinstance(text, str):
        raise ExploreError(f"{what} must be a str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        bad = text[e.start : e.end]
        raise ExploreError(
            f"{what}: {text!r} holds a lone surrogate ({ascii(bad)}) that UTF-8 cannot "
            "encode; give plain text"
        ) from None
    return text


@dataclass
class Edge:
    """What backward passed from the op that made `consumer` to its input `parent`."""

    consumer: int
    parent: int
    index: int  # which input of the op the parent is
    kind: str  # "elementwise", "matmul" or "general"
    upstream: np.ndarray  # dL/d(consumer), as the engine computed it
    contribution: np.ndarray  # the op's backward applied to it: this edge's part of dL/d(parent)
    local: np.ndarray | None = None  # d(consumer)/d(parent) elementwise (kind "elementwise")
    terms: list[list[tuple[float, float]]] | None = None  # matmul: (factor, factor) per term
    terms_total: int = 0  # matmul: how many terms each full sum has
    rows: list[dict[str, Any]] | None = None  # softmax: the sum over each element's row
    source: SourceLine | None = None


@dataclass
class Node:
    id: int
    name: str
    op: str  # "" for a leaf; a fused op's label names its parts on a second line
    op_class: str  # the Function's class name, or the Value's op
    formulas: tuple[str, ...]  # d(op)/d(input i) for people (Function.formula)
    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool
    parents: list[int] = field(default_factory=list)
    scalar: bool = False  # a Value (else a Tensor)


@dataclass
class Recording:
    nodes: list[Node]
    edges: list[Edge]
    order: list[int]  # the backward order: reverse topological, the loss first
    tier: str  # "tensor" or "scalar"


def record(
    loss: Any, names: dict[str, Any] | None = None, max_nodes: int | None = None
) -> Recording:
    """Run backward from `loss` (a one-element Tensor or a Value) and record every number.
    A graph of more than `max_nodes` nodes is refused before anything runs."""
    for name in names or {}:
        check_text("names", name)
    if isinstance(loss, Tensor):
        return _record_tensor(loss, names or {}, max_nodes)
    if isinstance(loss, Value):
        return _record_scalar(loss, names or {}, max_nodes)
    raise ExploreError(f"explore() needs a Tensor or a Value (the loss), got {type(loss).__name__}")


def _check_size(topo: list[Any], max_nodes: int | None) -> None:
    if max_nodes is not None and len(topo) > max_nodes:
        raise ExploreError(
            f"explore(): this graph has {len(topo)} nodes; the explorer draws at most "
            f"{max_nodes} (a browser takes minutes to lay out more, see docs/explorer.md); "
            "explore a smaller model, or a smaller piece of this one"
        )


def _check_labels(topo: list[Any]) -> None:
    for node in topo:  # before backward, so that a bad label changes nothing
        label = getattr(node, "label", "")
        if label:
            check_text("a label", label)


def _topological(root: Any, inputs_of: Any) -> list[Any]:
    """Every node behind root, each after all of its inputs (iterative depth-first search)."""
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(inputs_of(node)) if id(p) not in seen)
    return order


CONSTANT_SHOWN = 4  # a constant with at most this many numbers is named by them


def _name_of(node: Any, names_by_id: dict[int, str], op: str, number: int) -> str:
    """The name a node is shown by: the caller's name for it, its label, its value for a
    constant, else its op and its number in the graph ("matmul#17", "leaf#3")."""
    if id(node) in names_by_id:
        return names_by_id[id(node)]
    label = getattr(node, "label", "")
    if label:
        return check_text("a label", label)
    if not op and not getattr(node, "requires_grad", False):
        values = np.asarray(node.data).reshape(-1)
        # A one-number leaf that nobody named: a constant such as the 1 of 1 - p (a Tensor
        # that needs no grad), or an unlabelled scalar Value (which has no requires_grad).
        if values.size == 1:
            return f"{float(values[0]):g}"
        # A bigger constant (the 1 - y that the loss computed outside the graph, since y
        # needs no grad): "constant" and its numbers, or its shape when they are many.
        if values.size <= CONSTANT_SHOWN:
            return "constant [" + ", ".join(f"{float(v):g}" for v in values) + "]"
        return "constant " + "×".join(str(n) for n in np.shape(node.data))
    short = op.split("\n")[0] if op else "leaf"
    return f"{short}#{number}"


def _readable_names(nodes: list[Node], given: set[int]) -> None:
    """Name an unnamed op node after its inputs when that stays short and one level deep:
    "reshape(h2)", "log(clamp#22)"; otherwise it keeps its op and number ("matmul#17")."""
    used = {n.name for n in nodes}
    for n in nodes:
        if n.id in given or not n.op or not n.parents:
            continue
        inputs = [nodes[p].name for p in n.parents]
        short = f"{n.op.split(chr(10))[0]}({', '.join(inputs)})"
        if len(short) <= 18 and short not in used and not any("(" in i for i in inputs):
            used.add(short)
            n.name = short


# ---------------------------------------------------------------------------- Tensor tier
def _tensor_inputs(t: Tensor) -> tuple[Tensor, ...]:
    return tuple(t._ctx.parents) if t._ctx is not None else ()


def _op_label(ctx: Function | None) -> str:
    if ctx is None:
        return ""
    label = getattr(ctx, "graph_label", None)
    return label() if label else type(ctx).__name__.lower()


def _record_tensor(loss: Tensor, names: dict[str, Any], max_nodes: int | None) -> Recording:
    if not loss.requires_grad or loss._ctx is None:
        raise ExploreError("explore(): the loss does not require grad, so it has no graph")
    if loss.data.size != 1:
        raise ExploreError(
            f"explore(): the loss must be one number, not a tensor of shape {loss.shape}"
        )
    topo = _topological(loss, _tensor_inputs)
    _check_size(topo, max_nodes)
    for t in topo:
        if t._ctx is not None and t._ctx.saved is FREED:
            raise ExploreError(
                "explore(): backward() already ran on this graph and freed the arrays it "
                "saved; pass the loss of a fresh forward pass (or of one backwarded with "
                "retain_graph=True)"
            )
    names_by_id = {id(v): k for k, v in names.items()}
    for t in topo:  # `x @ W1` reshapes x, outside the graph when x needs no grad: still "x"
        if t._ctx is None and id(t) not in names_by_id:
            for k, v in names.items():
                if isinstance(v, Tensor) and v.data.size == t.data.size:
                    if np.shares_memory(v.data, t.data):
                        names_by_id[id(t)] = k
                        break
    ids = {id(t): i for i, t in enumerate(topo)}

    # One real backward pass that keeps every grad: inner tensors retain theirs, and every
    # tensor starts from None, leaves and inner tensors that retained a grad from an earlier
    # backward(retain_graph=True) alike (their old grads are added back afterwards).
    retain = {id(t): t._retain for t in topo}
    old_grads = {id(t): t._grad for t in topo if t.requires_grad}
    for t in topo:
        if t._ctx is not None:
            t._retain = True
        t._grad = None
    loss.backward(retain_graph=True)

    nodes: list[Node] = []
    for i, t in enumerate(topo):
        op = _op_label(t._ctx)
        grad = None if t._grad is None else np.array(t._grad.data)
        nodes.append(
            Node(
                id=i,
                name=_name_of(t, names_by_id, op, i),
                op=op,
                op_class=type(t._ctx).__name__ if t._ctx is not None else "",
                formulas=formulas.tensor_formulas(t._ctx),
                data=np.array(t.data),
                grad=grad if t.requires_grad else None,
                requires_grad=t.requires_grad,
                parents=[ids[id(p)] for p in _tensor_inputs(t)],
            )
        )

    _readable_names(nodes, {ids[k] for k in names_by_id if k in ids})

    edges: list[Edge] = []
    for t in topo:
        ctx = t._ctx
        if ctx is None or t._grad is None:
            continue
        g = np.array(t._grad.data)  # a copy: backward must not see (or change) the recorded one
        contributions = ctx.backward(g.copy())
        ones = None
        for index, (p, part) in enumerate(zip(ctx.parents, contributions)):
            if part is None or not p.requires_grad:
                continue
            edge = Edge(
                consumer=ids[id(t)],
                parent=ids[id(p)],
                index=index,
                kind="general",
                upstream=np.array(g),
                contribution=np.array(part).reshape(p.shape),
                source=derivative_source.tensor_derivative(type(ctx), index),
            )
            elementwise = g.size == 1 or (ctx.elementwise and p.data.size == g.size)
            if elementwise:
                if ones is None:  # backward is linear in g: on ones it gives d(out)/d(input)
                    ones = ctx.backward(np.ones_like(g))
                edge.kind = "elementwise"
                edge.local = np.array(ones[index]).reshape(p.shape)
            elif isinstance(ctx, softmax.Softmax | softmax.LogSoftmax):
                y, dim = ctx.saved
                edge.kind = "softmax" if isinstance(ctx, softmax.Softmax) else "log_softmax"
                edge.rows = _softmax_rows(y, g, dim, edge.kind == "softmax")
            elif isinstance(ctx, matmul.MatMul) and g.ndim == 2:
                a, b = ctx.saved[0], ctx.saved[1]
                edge.kind = "matmul"
                edge.terms = _matmul_terms(index, a, b, g)
                edge.terms_total = g.shape[1] if index == 0 else g.shape[0]
            edges.append(edge)

    # Leave the graph as a plain backward() would: arrays freed, inner grads dropped unless
    # retained, and this pass's gradients added to the old ones.
    for t in topo:
        ctx = t._ctx
        if ctx is not None:
            if ctx.saved_arrays():
                ctx.saved = FREED
            t._retain = retain[id(t)]
            if not t._retain:
                t._grad = None
                continue
        old = old_grads.get(id(t))
        if old is not None:
            t._grad = old if t._grad is None else Tensor._wrap(old.data + t._grad.data)
    order = [ids[id(t)] for t in reversed(topo) if t.requires_grad]
    return Recording(nodes, edges, order, "tensor")


def _matmul_terms(
    index: int, a: np.ndarray, b: np.ndarray, g: np.ndarray
) -> list[list[tuple[float, float]]]:
    """For C = A @ B with incoming gradient G: the factor pairs of each element's sum,
        dA[i, k] = sum_j G[i, j] B[k, j]        dB[k, j] = sum_i A[i, k] G[i, j]
    for the first MAX_EXPANDED elements (flat order), MAX_TERMS terms each. The sums
    themselves are the engine's (Edge.contribution); these are the numbers that go in."""
    out: list[list[tuple[float, float]]] = []
    shape = a.shape if index == 0 else b.shape
    for flat in range(min(MAX_EXPANDED, int(np.prod(shape)))):
        r, c = divmod(flat, shape[1])
        if index == 0:  # dA[r, c]: row r of G with row c of B
            pairs = [(float(g[r, j]), float(b[c, j])) for j in range(g.shape[1])]
        else:  # dB[r, c]: column r of A with column c of G
            pairs = [(float(a[i, r]), float(g[i, c])) for i in range(g.shape[0])]
        out.append(pairs[:MAX_TERMS])
    return out


def _softmax_rows(y: np.ndarray, g: np.ndarray, dim: int, softmax: bool) -> list[dict[str, Any]]:
    """The numbers between softmax's formula and its result, for the first MAX_EXPANDED
    elements: with y the output and G the gradient arriving, along the softmax's dimension,
        softmax:      dx[k] = y[k] (G[k] − s),   s = Σ_j G[j] y[j]
        log_softmax:  dx[k] = G[k] − e^y[k] s,   s = Σ_j G[j]
    `terms` are the sum's first MAX_TERMS (G[j], y[j]) pairs, `sum` is s computed here from
    the op's saved y and the engine's G (the engine's own dx is Edge.contribution)."""
    out = []
    for flat in range(min(MAX_EXPANDED, y.size)):
        idx = np.unravel_index(flat, y.shape)
        row = tuple(slice(None) if axis == dim % y.ndim else i for axis, i in enumerate(idx))
        ys, gs = y[row].reshape(-1), g[row].reshape(-1)
        s = float(np.sum(gs * ys)) if softmax else float(np.sum(gs))
        out.append(
            {
                "terms": [(float(a), float(b)) for a, b in zip(gs[:MAX_TERMS], ys[:MAX_TERMS])],
                "total": int(ys.size),
                "sum": s,
                "y": float(y[idx]),
                "expY": float(np.exp(y[idx])),
                "g": float(g[idx]),
            }
        )
    return out


# ---------------------------------------------------------------------------- Value tier
def _record_scalar(loss: Value, names: dict[str, Any], max_nodes: int | None) -> Recording:
    topo = _topological(loss, lambda v: tuple(v._prev))
    _check_size(topo, max_nodes)
    _check_labels(topo)
    names_by_id = {id(v): k for k, v in names.items()}
    ids = {id(v): i for i, v in enumerate(topo)}
    leaves = [v for v in topo if not v._prev]
    old = {id(v): v.grad for v in leaves}
    for v in leaves:
        v.grad = 0
    loss.backward()  # the engine's own pass fills every node's grad

    nodes = [
        Node(
            id=i,
            name=_name_of(v, names_by_id, v._op, i),
            op=v._op,
            op_class=v._op,
            formulas=formulas.scalar_formulas(v._op),
            data=np.array(float(v.data)),
            grad=np.array(float(v.grad)),
            requires_grad=True,
            parents=[ids[id(c)] for c in v._prev],
            scalar=True,
        )
        for i, v in enumerate(topo)
    ]
    edges = []
    for v in topo:
        for index, (child, local) in enumerate(zip(v._prev, v._local_grads)):
            edges.append(
                Edge(
                    consumer=ids[id(v)],
                    parent=ids[id(child)],
                    index=index,
                    kind="elementwise",
                    upstream=np.array(float(v.grad)),
                    contribution=np.array(float(local * v.grad)),  # as Value._backward adds
                    local=np.array(float(local)),
                    source=derivative_source.scalar_derivative(v._op, index),
                )
            )
    for v in leaves:
        v.grad = old[id(v)] + v.grad
    order = [ids[id(v)] for v in reversed(topo)]
    return Recording(nodes, edges, order, "scalar")
