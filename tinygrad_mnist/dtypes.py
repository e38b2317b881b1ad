"""The dtypes a Tensor can have, and how Python data becomes an array of one.

float32 is the default (the C kernels' fast path), float64 is for gradient checks, int64 holds
labels and indices, bool holds masks. Only float tensors take part in autograd.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    from .tensors.tensor import Tensor

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DTYPES = FLOAT_DTYPES + (np.dtype(np.int64), np.dtype(np.bool_))
Operand = Union["Tensor", float, int, np.ndarray]


def resolve_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(
            f"Tensor: unknown dtype {dtype!r}; use float32, float64, int64 or bool"
        ) from e
    if dt not in DTYPES:
        raise TypeError(f"Tensor: dtype {dt} is not supported; use float32, float64, int64 or bool")
    return dt


def as_array(data: Any, what: str) -> np.ndarray:
    """np.asarray(data), with a clear error for Python ints that fit no NumPy integer."""
    arr = np.asarray(data)
    if arr.dtype == object:
        try:  # e.g. 2**70: NumPy keeps such ints as Python objects
            arr = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(f"{what}: cannot use data of type {type(data).__name__}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what}: cannot use data of dtype {arr.dtype}")
    return arr


def operand_array(x: Any, dtype: np.dtype) -> np.ndarray:
    """A number or array-like as an array; a clear error for what cannot be one."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 2**63:
        if dtype.kind != "f":
            raise OverflowError(f"the integer {x} does not fit in a {dtype} tensor")
        try:
            return np.asarray(float(x), dtype=dtype)
        except OverflowError:
            raise OverflowError(f"the integer {x} is too large for a {dtype} tensor") from None
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"unsupported operand type {type(x).__name__} for a Tensor")
    return arr


# ---------------------------------------------------------------- dtype objects, torch's names
# `torch.float32`, `torch.long`, ... are NumPy dtypes here: `t.dtype == tg.float32` and
# `Tensor(x, dtype=tg.long)` work, and NumPy understands them everywhere.
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
# torch's aliases (`float` and `bool` are exported under those names by the package root)
double = float64
long = int64
# int32 is not a storage dtype here (no kernel uses it): .int() and dtype=torch.int32 give
# int64, which holds every int32 value
int32 = int64

# the legacy type names of Tensor.type(), as torch prints and accepts them
TYPE_NAMES = {
    float32: "torch.FloatTensor",
    float64: "torch.DoubleTensor",
    int64: "torch.LongTensor",
    bool_: "torch.BoolTensor",
}


def infer_dtype(arr: np.ndarray, from_python: bool) -> np.dtype:
    """The dtype torch.tensor(data) gives: Python floats -> float32, ints -> int64, bools ->
    bool; a NumPy array keeps its float dtype (float16 becomes float32) and its integers
    become int64."""
    kind = arr.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "f":
        return float32 if from_python or arr.dtype.itemsize < 8 else float64
    raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype}")
