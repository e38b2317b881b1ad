"""How a Tensor prints: as torch prints it, `tensor([[1.0000, 2.5000]], requires_grad=True)`.

Floats get 4 decimals; whole-number floats print as `1.`; numbers spanning more than three
orders of magnitude (or beyond 1e8 or below 1e-4) print in scientific notation, as torch
does. float32, int64 and bool are the default dtypes and are not named; float64 is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_DEFAULT = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def _float_format(a: np.ndarray):
    finite = np.abs(a[np.isfinite(a)]).astype(np.float64)
    if finite.size and np.all(finite == np.round(finite)) and finite.max() < 1e8:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)  # inf, nan as torch
    nonzero = finite[finite != 0]
    if nonzero.size and (
        nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4
    ):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def tensor_str(t: Tensor) -> str:
    a = t.data
    if a.size == 0:
        body = "[]" if a.ndim == 1 else f"[], size={a.shape}"
    else:
        if a.dtype.kind == "f":
            fmt = _float_format(a)
        elif a.dtype.kind == "b":
            fmt = str
        else:
            fmt = lambda v: str(int(v))  # noqa: E731
        width = max(len(fmt(v)) for v in a.flat)
        kind = {"f": "float_kind", "b": "bool", "i": "int"}[a.dtype.kind]
        body = np.array2string(
            a,
            separator=", ",
            prefix="tensor(",
            formatter={kind: lambda v: fmt(v).rjust(width)},
            threshold=1000,
            edgeitems=3,
            max_line_width=80,
        )
    extra = ""
    if t.dtype not in _DEFAULT:
        extra += f", dtype=torch.{t.dtype}"
    if t._ctx is not None:
        extra += f", grad_fn=<{type(t._ctx).__name__}Backward>"
    elif t.requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({body}{extra})"
