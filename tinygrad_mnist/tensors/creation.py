"""Making tensors, as torch's module-level functions: `tensor`, `from_numpy`, `zeros`,
`randn`, `arange`, `linspace`, `eye`, `*_like`, `randint`, `randperm`, `multinomial`, ...

Dtypes follow torch. `tensor(data)` infers one (Python ints -> int64, floats -> float32,
bools -> bool; a NumPy array keeps its dtype); `zeros`, `ones`, `rand`, `randn`, `empty`,
`linspace` and `eye` are float32 unless dtype= says otherwise; `full` and `arange` infer from
their numbers. `Tensor(data)` itself is float32, as `torch.Tensor(data)` is. Random functions
draw from the default generator (tensors/random.py) unless given `generator=`. `device=` is
accepted and must be the CPU (devices.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..devices import check_device
from ..dtypes import as_array, float32, infer_dtype, int64, resolve_dtype
from .random import Generator, rng_of
from .tensor import Tensor

__all__ = [
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like",
    "linspace", "multinomial", "normal", "ones", "ones_like", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "tensor", "zeros", "zeros_like",
]  # fmt: skip


def _size(size: Sequence[Any]) -> tuple[int, ...]:
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(torch.Size) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = tuple(int(s) for s in size)
    if any(s < 0 for s in out):
        raise ValueError(f"negative dimension in size {out}")
    return out


def _make(arr: np.ndarray, dtype: Any, requires_grad: bool, device: Any) -> Tensor:
    check_device(device)
    return Tensor(arr, requires_grad=requires_grad, dtype=float32 if dtype is None else dtype)


def _float(dtype: Any) -> np.dtype:
    dt = float32 if dtype is None else resolve_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"expected a float dtype for random values, got {dt}")
    return dt


# ---------------------------------------------------------------- from data
def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_: Any
) -> Tensor:
    """A new tensor holding a copy of `data`, with torch's dtype inference."""
    check_device(device)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (list, tuple)):  # tensors inside lists: their values
        data = _plain(data)
    arr = as_array(data, "tensor")
    dt = infer_dtype(arr, not isinstance(data, np.ndarray)) if dtype is None else dtype
    return Tensor(np.array(arr), requires_grad=requires_grad, dtype=dt)


def _plain(data: Any) -> Any:
    if isinstance(data, (list, tuple)):
        return [_plain(x) for x in data]
    return data.data if isinstance(data, Tensor) else data


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing its memory when it already is a tensor or an array of a
    dtype a tensor can have."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and dtype is None:
        return Tensor(data, dtype=infer_dtype(data, False))
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing the array's memory (writes show on both sides), with its dtype.

    Integer arrays other than int64 (uint8 images, int32 labels) and float16 arrays are
    converted (a copy): the tensors here hold float32, float64, int64 or bool."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected a np.ndarray, got {type(arr).__name__}")
    return Tensor(arr, dtype=infer_dtype(arr, False))


# ---------------------------------------------------------------- filled
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False):
    return _make(np.zeros(_size(size)), dtype, requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False):
    return _make(np.ones(_size(size)), dtype, requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False):
    """Zeros: torch leaves the memory uninitialised; here it is always zeroed."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    if dtype is None:
        dtype = infer_dtype(np.asarray(fill_value), True)
    return _make(np.full(_size((size,)), fill_value), dtype, requires_grad, device)


def zeros_like(t: Tensor, dtype: Any = None, **kw: Any) -> Tensor:
    return zeros(t.shape, dtype=t.dtype if dtype is None else dtype, **kw)


def ones_like(t: Tensor, dtype: Any = None, **kw: Any) -> Tensor:
    return ones(t.shape, dtype=t.dtype if dtype is None else dtype, **kw)


def empty_like(t: Tensor, dtype: Any = None, **kw: Any) -> Tensor:
    return zeros_like(t, dtype=dtype, **kw)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, **kw: Any) -> Tensor:
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype, **kw)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """arange(end) or arange(start, end, step): int64 when every number is an int, else
    float32, as in torch."""
    if end is None:
        start, end = 0, start
    nums = [x.item() if isinstance(x, Tensor) else x for x in (start, end, step)]
    if dtype is None:
        dtype = int64 if all(isinstance(x, (int, np.integer)) for x in nums) else float32
    if nums[2] == 0:
        raise ValueError("arange: step must not be 0")
    return _make(np.arange(*nums), dtype, requires_grad, device)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    if int(steps) < 0:
        raise ValueError(f"linspace: steps must be >= 0, got {steps}")
    return _make(np.linspace(float(start), float(end), int(steps)), dtype, requires_grad, device)


def eye(
    n: int, m: int | None = None, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    return _make(np.eye(int(n), None if m is None else int(m)), dtype, requires_grad, device)


# ---------------------------------------------------------------- random
def rand(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Uniform on [0, 1)."""
    check_device(device)
    dt = _float(dtype)
    return Tensor(rng_of(generator).random(_size(size)), requires_grad, dt)


def randn(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Standard normal."""
    check_device(device)
    dt = _float(dtype)
    return Tensor(rng_of(generator).standard_normal(_size(size)), requires_grad, dt)


def randint(
    *args: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64."""
    args = list(args)
    if size is None:
        if not args or not isinstance(args[-1], (tuple, list)):
            raise TypeError("randint: give the size as a tuple, e.g. randint(0, 10, (3,))")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint(high, size) or randint(low, high, size)")
    low, high = int(low), int(high)
    if high <= low:
        raise ValueError(f"randint: need low < high, got [{low}, {high})")
    check_device(device)
    arr = rng_of(generator).integers(low, high, _size((size,)))
    return Tensor(arr, requires_grad, int64 if dtype is None else dtype)


def randperm(
    n: int, generator: Generator | None = None, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    check_device(device)
    return Tensor(rng_of(generator).permutation(int(n)), requires_grad, dtype or int64)


def rand_like(t: Tensor, dtype: Any = None, **kw: Any) -> Tensor:
    return rand(t.shape, dtype=t.dtype if dtype is None else dtype, **kw)


def randn_like(t: Tensor, dtype: Any = None, **kw: Any) -> Tensor:
    return randn(t.shape, dtype=t.dtype if dtype is None else dtype, **kw)


def randint_like(t: Tensor, low: int, high: int | None = None, **kw: Any) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, dtype=kw.pop("dtype", t.dtype), **kw)


def normal(
    mean: Any = 0.0, std: Any = 1.0, size: Any = None, generator: Generator | None = None,
    dtype: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """normal(mean, std, size) with numbers, or with tensors of means and/or stds (the
    result has their broadcast shape); no gradient flows to mean or std."""
    check_device(device)
    m = mean.data if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    s = std.data if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    if np.any(s < 0):
        raise ValueError("normal: std must be >= 0")
    shape = _size((size,)) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    arr = m + s * rng_of(generator).standard_normal(shape)
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    dt = dtype if dtype is not None else tensors[0].dtype if tensors else float32
    return Tensor(arr, requires_grad, _float(dt))


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False,  # noqa: A002
    generator: Generator | None = None,
) -> Tensor:  # fmt: skip
    """Draw `num_samples` indices per row of non-negative weights (1-D or 2-D), int64.
    Without replacement every index appears at most once per row, as in torch."""
    w = np.asarray(input.data if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: weights must be 1-D or 2-D, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows < 0) or not np.all(np.isfinite(rows)):
        raise ValueError("multinomial: weights must be finite and >= 0")
    n = int(num_samples)
    rng = rng_of(generator)
    out = np.empty((len(rows), n), dtype=np.int64)
    for i, r in enumerate(rows):
        total = r.sum()
        if total <= 0:
            raise ValueError("multinomial: a row of weights sums to 0")
        if not replacement and n > np.count_nonzero(r):
            raise ValueError(
                f"multinomial: cannot draw {n} samples without replacement from "
                f"{np.count_nonzero(r)} non-zero weights"
            )
        out[i] = rng.choice(len(r), size=n, replace=replacement, p=r / total)
    return Tensor(out.reshape(w.shape[:-1] + (n,)), dtype=int64)
