"""torch's module-level math: `torch.exp(x)`, `torch.max(x, 1)`, `torch.mm(a, b)`, ...

Each is the Tensor method of the same name (tensors/tensor.py, tensors/math_methods.py)
called on its first argument, which may also be a number or an array (it becomes a tensor,
as torch.tensor would make it). A textbook's helper library binds many of these names on
import, so they are all here, even the ones a method call would do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..dtypes import as_array, infer_dtype
from .tensor import Tensor


def as_input(x: Any) -> Tensor:
    """A tensor as it is; a number or array as torch.tensor would make it."""
    if isinstance(x, Tensor):
        return x
    arr = as_array(x, "input")
    return Tensor(arr, dtype=infer_dtype(arr, not isinstance(x, np.ndarray)))


def _method(name: str) -> Callable[..., Any]:
    def call(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - torch's name
        return getattr(as_input(input), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"torch.{name}(input, ...): input.{name}(...)."
    return call


# elementwise
exp = _method("exp")
log = _method("log")
log1p = _method("log1p")
log10 = _method("log10")
log2 = _method("log2")
sqrt = _method("sqrt")
square = _method("square")
abs = _method("abs")  # noqa: A001 - torch's name
sin = _method("sin")
cos = _method("cos")
sinh = _method("sinh")
cosh = _method("cosh")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
clamp = _method("clamp")
clip = _method("clip")
pow = _method("pow")  # noqa: A001
maximum = _method("maximum")
minimum = _method("minimum")
# reductions: max/min take a dim (-> values, indices) or another tensor (elementwise)
sum = _method("sum")  # noqa: A001
mean = _method("mean")
max = _method("max")  # noqa: A001
min = _method("min")  # noqa: A001
amax = _method("amax")
amin = _method("amin")
argmax = _method("argmax")
argmin = _method("argmin")
norm = _method("norm")
std = _method("std")
var = _method("var")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
# products and shapes
matmul = _method("matmul")
mm = _method("mm")
bmm = _method("bmm")
dot = _method("dot")
mv = _method("mv")
t = _method("t")
transpose = _method("transpose")
swapaxes = _method("swapaxes")
permute = _method("permute")
reshape = _method("reshape")
flatten = _method("flatten")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
numel = _method("numel")


def add(input: Any, other: Any, alpha: float = 1) -> Tensor:  # noqa: A002
    return as_input(input).add(other, alpha=alpha)


def sub(input: Any, other: Any, alpha: float = 1) -> Tensor:  # noqa: A002
    return as_input(input).sub(other, alpha=alpha)


def mul(input: Any, other: Any) -> Tensor:  # noqa: A002
    return as_input(input) * other


def div(input: Any, other: Any) -> Tensor:  # noqa: A002
    return as_input(input) / other


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """where(cond, a, b): a where cond holds, else b; where(cond): the indices of the True
    elements, one int64 tensor per dim."""
    if input is None and other is None:
        cond = np.asarray(condition)
        return tuple(Tensor(i, dtype=np.int64) for i in np.nonzero(cond))
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        input = Tensor(input, dtype=other.dtype if other.dtype.kind == "f" else None)
    return as_input(input).where(condition, other)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (indexing "ij", torch's default, or "xy"); each
    grid is an expanded view, so gradients flow back to its 1-D tensor."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [as_input(t) for t in tensors]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim != 1 for t in ts):
        raise ValueError("meshgrid: every input must be 1-D")
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0  # x varies along columns, y along rows
    shape = [0] * len(ts)
    for i, t in zip(order, ts):
        shape[i] = t.shape[0]
    out = []
    for i, t in zip(order, ts):
        view = [1] * len(ts)
        view[i] = -1
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def is_floating_point(x: Tensor) -> bool:
    return x.dtype.kind == "f"


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    return a.shape == b.shape and bool(np.array_equal(np.asarray(a), np.asarray(b)))
