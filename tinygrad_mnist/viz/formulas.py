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

TENSOR = {
    "Add": ("1", "1"),
    "Sub": ("1", "−1"),
    "Mul": ("{b}", "{a}"),
    "Div": ("1/{b}", "−{a}/{b}²"),
    "Neg": ("−1",),
    "Pow": ("p·{a}^(p−1)",),
    "PowTensor": ("{b}·{a}^({b}−1)", "{a}^{b}·ln {a}"),
    "Exp": ("e^{a} = {y}",),
    "Log": ("1/{a}",),
    "Sigmoid": ("σ({a})(1−σ({a}))",),
    "Tanh": ("1 − tanh²({a})",),
    "ReLU": ("[{a} > 0]",),
    "LeakyReLU": ("[{a} > 0] + slope·[{a} ≤ 0]",),
    "Clamp": ("[lo ≤ {a} ≤ hi]",),
    "Reshape": ("1 (the same numbers, reshaped)",),
    "Contiguous": ("1",),
    "Cast": ("1",),
    "Sum": ("1 (for each summed element)",),
    "MatMul": ("∂L/∂{y} · {b}ᵀ", "{a}ᵀ · ∂L/∂{y}"),
    "BatchMatMul": ("∂L/∂{y} · {b}ᵀ", "{a}ᵀ · ∂L/∂{y}"),
    "Softmax": ("{y} ⊙ (∂L/∂{y} − Σ ∂L/∂{y} ⊙ {y})",),
    "LogSoftmax": ("∂L/∂{y} − e^{y} · Σ ∂L/∂{y}",),
    "Linear": (
        "(act′ ⊙ ∂L/∂{y}) · {b}, with act′ the activation's derivative at {y}",
        "(act′ ⊙ ∂L/∂{y})ᵀ · {a}",
        "Σ over the batch of act′ ⊙ ∂L/∂{y}",
    ),
    "Transpose": ("∂L/∂{y}, transposed back",),
    "Index": ("∂L/∂{y}, put back where it was taken from (repeats add up)",),
    "Cat": ("the slice of ∂L/∂{y} that came from this input",) * 16,
    "Stack": ("the slice of ∂L/∂{y} that came from this input",) * 16,
    "Expand": ("∂L/∂{y}, summed over the expanded axes",),
    "CrossEntropy": ("(softmax({a}) − onehot(target)) / batch",),
    "BCEWithLogits": ("(σ({a}) − {b}) / n", "−{a} / n"),
}

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


def local_formula(tier: str, op: str, index: int, inputs: list[str], output: str) -> str:
    """The formula for input `index` of op `op`, with the graph's names filled in."""
    if tier == "scalar" and op.startswith("**"):
        n = op[2:]
        table: tuple[str, ...] = (f"{n}·{{a}}^({n}−1)",)
    else:
        table = (TENSOR if tier == "tensor" else SCALAR).get(op, ())
    if index >= len(table):
        return "see its backward"
    names = {"a": inputs[0] if inputs else "x", "b": inputs[1] if len(inputs) > 1 else "b"}
    return table[index].format(y=_plain(output), **{k: _plain(v) for k, v in names.items()})


def _plain(name: str) -> str:
    """A name with operators in it (a Value labelled "x1*w1") goes in brackets: (x1*w1)."""
    return name if re.fullmatch(r"[A-Za-z0-9_#.()]+", name) else f"({name})"
