"""Where this project defines a derivative: the file, line and text of its one definition.

Found by reading the engine's own source (inspect + ast), never from a table of line numbers,
so the explorer's "defined at ops/arithmetic.py:52" stays true when the code moves.

Tensor tier: an op's backward (a `Function` subclass, ops/) returns one gradient per input.
The line for input i is the statement that computes the i-th returned gradient (`da = ...`).
When that statement hands the derivative to a backend primitive named `*_backward` (as the
activations do: `self.be.sigmoid_backward(self.saved, g)`), the definition is that
primitive's first statement using the incoming gradient in the NumPy reference backend
(`return dy * y * (1 - y)`); the C kernels implement the same math (csrc/activation_math.h).

Scalar tier: each `Value` op builds its result as `Value(out, children, op, local_grads)`;
the line for child i is where the i-th local derivative is written (or where the name used
there is assigned, as `local = ...` in __pow__).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FunctionType

from ..backends import numpy_backend
from ..scalar import Value

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds tinygrad_mnist/


@dataclass(frozen=True)
class SourceLine:
    """One line of the project's source: path relative to the package's folder, 1-based line."""

    file: str
    line: int
    code: str
    function: str

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "code": self.code, "function": self.function}


def _parse(func: FunctionType) -> tuple[ast.FunctionDef, int, str]:
    """The function's AST (line numbers relative to its first line), that line, and its file."""
    lines, start = inspect.getsourcelines(func)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    return node, start, inspect.getsourcefile(func) or ""


def _line(func: FunctionType, stmt: ast.AST) -> SourceLine:
    _, start, file = _parse(func)
    line = start + stmt.lineno - 1
    path = Path(file).resolve()
    text = path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    try:
        shown = path.relative_to(PACKAGE_ROOT).as_posix()
    except ValueError:
        shown = path.as_posix()
    return SourceLine(shown, line, text, func.__qualname__)


def _names_in(node: ast.AST) -> set[str]:
    """Names whose values the code uses: `g` in `mul(g, b)`, not in `g.dtype` or `g.shape`."""
    meta = {
        id(n.value)
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and n.attr in ("dtype", "shape", "ndim", "size")
    }
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in meta}


def _body(fn: ast.FunctionDef) -> list[ast.stmt]:
    """The function's statements, without its docstring."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def _assignment_of(fn: ast.FunctionDef, name: str) -> ast.stmt | None:
    """The last statement of fn that assigns `name` (also inside `if` blocks)."""
    found = None
    for stmt in ast.walk(fn):
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(name in _names_in(t) for t in targets):
                if found is None or stmt.lineno > found.lineno:
                    found = stmt
    return found


def _computation_of(fn: ast.FunctionDef, name: str, grad_name: str) -> ast.stmt | None:
    """The first simple statement that uses the incoming gradient to build `name`
    (`da = ... mul(g, b) ...`, `np.add.at(dx, idx, g)`), else the last assignment of `name`."""
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)
    stmts = sorted((s for s in ast.walk(fn) if isinstance(s, simple)), key=lambda s: s.lineno)
    for stmt in stmts:
        if not isinstance(stmt, ast.Return) and {name, grad_name} <= _names_in(stmt):
            return stmt
    return _assignment_of(fn, name)


def _first_use_of(fn: ast.FunctionDef, name: str) -> ast.stmt | None:
    return next((s for s in _body(fn) if name in _names_in(s)), None)


def _backend_call(stmt: ast.stmt) -> str | None:
    """`NAME` when the statement calls `self.be.NAME(...)` with NAME ending in _backward."""
    for node in ast.walk(stmt):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.endswith("_backward")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "be"
        ):
            return node.func.attr
    return None


@cache
def tensor_derivative(op: type, index: int) -> SourceLine | None:
    """Where the derivative of Function `op`'s output with respect to input `index` is written."""
    backward = op.__dict__.get("backward")
    if not isinstance(backward, FunctionType):
        return None
    fn, _, _ = _parse(backward)
    grad_name = fn.args.args[1].arg  # backward(self, g)
    stmt: ast.stmt | None = None
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    returns.sort(key=lambda n: n.lineno)  # the last one is the general case
    if returns:
        value = returns[-1].value
        if isinstance(value, ast.Subscript):  # return (dx, dw, db)[: n]
            value = value.value
        if isinstance(value, ast.Tuple) and index < len(value.elts):
            item = value.elts[index]
            if isinstance(item, ast.Name):
                stmt = _computation_of(fn, item.id, grad_name)
            elif grad_name in _names_in(item):
                stmt = returns[-1]
    if stmt is None:
        stmt = _first_use_of(fn, grad_name)
    if stmt is None:
        return None
    primitive = _backend_call(stmt)
    if primitive is not None and isinstance(getattr(numpy_backend, primitive, None), FunctionType):
        reference = getattr(numpy_backend, primitive)
        ref_fn, _, _ = _parse(reference)
        grad_param = "dy" if "dy" in [a.arg for a in ref_fn.args.args] else ref_fn.args.args[-1].arg
        # A primitive that returns one gradient per input (linear_backward: dx, dw, db):
        # the line of the index-th one; else the first line that uses the incoming gradient.
        ref_stmt = _tuple_item(ref_fn, index, grad_param) or _first_use_of(ref_fn, grad_param)
        if ref_stmt is not None:
            return _line(reference, ref_stmt)
    return _line(backward, stmt)


def _tuple_item(fn: ast.FunctionDef, index: int, grad_name: str) -> ast.stmt | None:
    """The statement that computes item `index` of the tuple `fn` returns last, if it does."""
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    last = max(returns, key=lambda n: n.lineno)
    if not isinstance(last.value, ast.Tuple) or index >= len(last.value.elts):
        return None
    item = last.value.elts[index]
    if isinstance(item, ast.Name):
        return _computation_of(fn, item.id, grad_name)
    return last


def _value_ops() -> dict[str, tuple[FunctionType, ast.FunctionDef, ast.Call]]:
    """op name -> (method of Value, its AST, the `Value(out, children, op, locals)` call)."""
    found: dict[str, tuple[FunctionType, ast.FunctionDef, ast.Call]] = {}
    for member in vars(Value).values():
        if not isinstance(member, FunctionType):
            continue
        fn, _, _ = _parse(member)
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Value"
                and len(node.args) >= 4
            ):
                op = node.args[2]
                if isinstance(op, ast.Constant) and isinstance(op.value, str):
                    found.setdefault(op.value, (member, fn, node))
                elif isinstance(op, ast.JoinedStr) and op.values:  # f"**{n}"
                    head = op.values[0]
                    if isinstance(head, ast.Constant):
                        found.setdefault(head.value + "{}", (member, fn, node))
    return found


_VALUE_OPS: dict[str, tuple[FunctionType, ast.FunctionDef, ast.Call]] | None = None


@cache
def scalar_derivative(op: str, index: int) -> SourceLine | None:
    """Where `Value` op `op` (e.g. "*", "tanh", "**2") writes d(out)/d(child `index`)."""
    global _VALUE_OPS
    if _VALUE_OPS is None:
        _VALUE_OPS = _value_ops()
    entry = _VALUE_OPS.get(op)
    if entry is None:  # an f-string op such as f"**{n}": match on its constant prefix
        entry = next(
            (e for k, e in _VALUE_OPS.items() if k.endswith("{}") and op.startswith(k[:-2])),
            None,
        )
    if entry is None:
        return None
    method, fn, call = entry
    local = call.args[3]
    node: ast.AST = local
    if isinstance(local, ast.Tuple) and index < len(local.elts):
        node = local.elts[index]
    if isinstance(node, ast.Name):
        assigned = _assignment_of(fn, node.id)
        if assigned is not None:
            node = assigned
    return _line(method, node)
