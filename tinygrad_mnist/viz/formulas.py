"""The local derivative of each op, written for people: the text beside the numbers.

These strings are only shown, never computed with: the numbers next to them come from the
engine's backward (graph_record.py), and the source line of the definition is found by
derivative_source.py. In a template, {a} and {b} are the names of the op's inputs, {y} the
name of its output.

For an elementwise op the text is the factor d(out)/d(input) that multiplies the incoming
gradient; for any other op it is the whole expression backward computes for that input.
"""

from __future__ import annotations

import re
from typing import Any

# A fused Linear with no activation (a network's last layer) has no act′: its backward is
# the plain matmul's and the bias's. FusedLinear.formula describes the general case.
LINEAR_NO_ACTIVATION = (
    "∂L/∂{y} · {b}",
    "(∂L/∂{y})ᵀ · {a}",
    "Σ over the batch of ∂L/∂{y}",
)


def tensor_formulas(ctx: Any) -> tuple[str, ...]:
    """The formulas of the op that made a tensor (its Function, or None for a leaf)."""
    if ctx is None:
        return ()
    if type(ctx).__name__ == "FusedLinear" and getattr(ctx, "activation", "") in ("none", None):
        return LINEAR_NO_ACTIVATION
    return tuple(type(ctx).formula)


def as_factor(formula: str) -> str:
    """The formula as one factor of a product: bracketed when it is a sum or a difference at
    its top level, so that `∂L/∂o · (1 − tanh²(n))` reads as it is computed."""
    depth = 0
    for i, ch in enumerate(formula):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in "+−-" and 0 < i < len(formula) - 1:
            if formula[i - 1] == " " and formula[i + 1] == " ":
                return f"({formula})"
    return formula


SCALAR = {
    "+": ("1", "1"),
    "-": ("1", "−1"),
    "*": ("{b}", "{a}"),
    "/": ("1/{b}", "−{a}/{b}²"),
    "neg": ("−1",),
    "ReLU": ("[{a} > 0]",),
    "LeakyReLU": ("[{a} > 0] + slope·[{a} ≤ 0]",),
    "tanh": ("1 − tanh²({a})",),
    "sigmoid": ("σ({a})(1−σ({a}))",),
    "exp": ("e^{a}",),
    "log": ("1/{a}",),
}


def scalar_formulas(op: str) -> tuple[str, ...]:
    """The formulas of a Value op, one per input ("**3" is a power with its exponent)."""
    if op.startswith("**"):
        n = op[2:]
        return (f"{n}·{{a}}^({n}−1)",)
    return SCALAR.get(op, ())


def local_formula(table: tuple[str, ...], index: int, inputs: list[str], output: str) -> str:
    """Formula `index` of an op's `table` (Function.formula for a Tensor op, scalar_formulas
    for a Value's), with the graph's names filled in."""
    if index >= len(table):
        return "see its backward"
    names = {"a": inputs[0] if inputs else "x", "b": inputs[1] if len(inputs) > 1 else "b"}
    return table[index].format(y=_plain(output), **{k: _plain(v) for k, v in names.items()})


def _plain(name: str) -> str:
    """A name with operators in it (a Value labelled "x1*w1") goes in brackets: (x1*w1)."""
    return name if re.fullmatch(r"[A-Za-z0-9_#.()]+", name) else f"({name})"
