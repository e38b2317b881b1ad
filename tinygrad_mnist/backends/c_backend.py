"""The C backend: the primitives of interface.py, computed by the kernels in csrc/.

Each function does the same three things:
  1. check its arguments (float32 or float64, one dtype per call, shapes that fit), so that
     bad input raises a ValueError or TypeError here and never reaches C, which trusts them;
  2. make the inputs C-contiguous (free when they already are) and allocate the outputs;
  3. call one C kernel on the raw buffers. `ffi.from_buffer` wraps an array's memory without
     copying, and works on read-only arrays too.
The meaning of every primitive is its namesake in numpy_backend.py; tests/test_kernels.py
checks that the two agree. A primitive with no kernel here runs on NumPy: the module-level
__getattr__ at the end of this file is the one place that falls back.

This module is on the training hot path, so the per-dtype kernel functions are looked up
once (_Kernels) and the common cases avoid extra copies and Python-level work.
"""

from __future__ import annotations

import contextlib
import math
import operator
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_mnist._kernels import ffi, lib
from tinygrad_mnist.backends import numpy_backend, recording
from tinygrad_mnist.backends.numpy_backend import ACTIVATIONS, check_labels

name = "c"

_buf = ffi.from_buffer  # _buf("float[]", arr): a C pointer to arr's memory, no copy
_NULL = ffi.NULL


# ---------------------------------------------------------------- the ISA of every kernel
# csrc/kernels.h's enum tg_isa is the one list of codes: {0: "generic", 1: "avx2", ...}, the
# names being those of TINYGRAD_ISA.
ISA_NAMES: dict[int, str] = {
    code: name.removeprefix("TG_ISA_").lower()
    for code, name in sorted(ffi.typeof("enum tg_isa").elements.items())
}
_ISA_CODES = {name: code for code, name in ISA_NAMES.items()}
GEMM_PATHS = ("auto", "packed", "direct")  # TINYGRAD_GEMM_PATH (csrc/gemm/gemm.c)


def get_isa() -> str:
    """The instruction set every C kernel uses now, e.g. "avx2"."""
    return ISA_NAMES[lib.tg_get_isa()]


def available_isas() -> list[str]:
    """The ISAs this CPU and this build can run, generic first (the best one last)."""
    current = lib.tg_get_isa()
    names = [name for code, name in ISA_NAMES.items() if lib.tg_set_isa(code) == code]
    lib.tg_set_isa(current)
    return names


def set_isa(name: str) -> str:
    """Run every C kernel on `name` ("generic", "avx2", ...; "auto": the best this CPU has)
    from now on, in every thread. Returns the ISA in use before, so it can be restored.
    ValueError for an unknown name or one this CPU or build lacks."""
    previous = get_isa()
    code = -1 if name == "auto" else _ISA_CODES.get(name)
    if code is None:
        raise ValueError(f"unknown ISA {name!r}: expected auto or {', '.join(ISA_NAMES.values())}")
    if lib.tg_set_isa(code) != code and code >= 0:  # refused: nothing changed
        have = ", ".join(available_isas())
        raise ValueError(f"ISA {name!r} is not available on this CPU or build (have: {have})")
    return previous


def _check_environment() -> None:
    """Warn (once, at import) about a TINYGRAD_ISA or TINYGRAD_GEMM_PATH that C ignores."""
    isa = os.environ.get("TINYGRAD_ISA")
    if isa is not None and isa not in _ISA_CODES:
        warnings.warn(
            f"TINYGRAD_ISA={isa!r} is not one of {', '.join(ISA_NAMES.values())}: "
            f"ignored, the kernels use {get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )
    elif isa is not None and get_isa() != isa:
        warnings.warn(
            f"TINYGRAD_ISA={isa}: this CPU or build lacks it, the kernels use {get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )
    path = os.environ.get("TINYGRAD_GEMM_PATH")
    if path is not None and path not in GEMM_PATHS:
        warnings.warn(
            f"TINYGRAD_GEMM_PATH={path!r} is not one of {', '.join(GEMM_PATHS)}: ignored (auto)",
            RuntimeWarning,
            stacklevel=3,
        )


_check_environment()


class _Kernels:
    """The kernels of one dtype: `k.sigmoid` is lib.tg_sigmoid_f32 or lib.tg_sigmoid_f64."""

    def __init__(self, dtype: type, ctype: str, suffix: str) -> None:
        self.dtype = np.dtype(dtype)
        self.ctype = ctype  # the cffi array type that wraps a buffer of this dtype
        tail = "_" + suffix
        for full_name in dir(lib):
            if full_name.startswith("tg_") and full_name.endswith(tail):
                setattr(self, full_name[3 : -len(tail)], getattr(lib, full_name))


_KERNELS = {
    np.dtype(np.float32): _Kernels(np.float32, "float[]", "f32"),
    np.dtype(np.float64): _Kernels(np.float64, "double[]", "f64"),
}


# ---------------------------------------------------------------- argument checks
def _kernels(op: str, *arrays: np.ndarray) -> _Kernels:
    """The kernels for the arrays' dtype; raise unless all are float32, or all float64."""
    k = _KERNELS.get(getattr(arrays[0], "dtype", None))
    if k is not None:  # the common case, kept cheap: it runs on every call
        dt = k.dtype
        for x in arrays:
            if type(x) is not np.ndarray or x.dtype is not dt:
                break
        else:
            return k
    for x in arrays:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{op}: expected NumPy arrays, got {type(x).__name__}")
    dtype = arrays[0].dtype
    k = _KERNELS.get(dtype)
    if k is None:
        raise ValueError(f"{op}: expected float32 or float64 arrays, got dtype {dtype}")
    for x in arrays[1:]:
        if x.dtype != dtype:
            dtypes = ", ".join(str(y.dtype) for y in arrays)
            raise ValueError(f"{op}: all arrays must have one dtype, got {dtypes}")
    return k


def _same_shape(op: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{op}: shapes differ: {a.shape} and {b.shape}")


def _contig(a: np.ndarray) -> np.ndarray:
    """a itself when it is C-contiguous (the usual case), else a C-contiguous copy."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _apart(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a and b cannot overlap in memory. Two arrays that each own their memory are
    separate allocations (the cheap, usual case: parameters, gradients, optimizer state);
    for views, NumPy compares the memory bounds."""
    return (a is not b and a.flags.owndata and b.flags.owndata) or not np.may_share_memory(a, b)


def _check_in_place(op: str, p: np.ndarray, g: np.ndarray, *state: np.ndarray) -> None:
    """p and the state arrays are updated in place from g: all must have p's shape, p and the
    state must be C-contiguous and writeable, and no two may overlap in memory (the loop
    would read values it has already overwritten). Runs every optimizer step: kept cheap."""
    shape, f = p.shape, p.flags
    ok = g.shape == shape and f.c_contiguous and f.writeable and _apart(p, g)
    for i, s in enumerate(state):
        f = s.flags
        ok = ok and s.shape == shape and f.c_contiguous and f.writeable
        ok = ok and _apart(s, p) and _apart(s, g)
        for t in state[:i]:
            ok = ok and _apart(s, t)
    if not ok:
        _explain_in_place(op, (p, g, *state))


def _explain_in_place(op: str, arrays: tuple[np.ndarray, ...]) -> None:
    """Raise the ValueError that says which in-place argument of `op` is wrong."""
    names = ("p", "g") + tuple(f"state {i}" for i in range(len(arrays) - 2))
    p = arrays[0]
    for name, x in zip(names, arrays):
        if x.shape != p.shape:
            raise ValueError(f"{op}: {name} has shape {x.shape}, p has {p.shape}")
        if name != "g" and not (x.flags.c_contiguous and x.flags.writeable):
            raise ValueError(f"{op}: {name} must be C-contiguous and writeable to update in place")
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            if np.may_share_memory(arrays[i], arrays[j]):
                raise ValueError(
                    f"{op}: {names[i]} and {names[j]} overlap in memory; pass separate arrays"
                )


def _step_many_args(
    op: str, ps: list[np.ndarray], gs: list[np.ndarray], states: list[list[np.ndarray]]
) -> tuple[_Kernels, list[int], list[list[Any]]] | None:
    """(kernels, sizes, [p, g, *state] pointer lists) for tg_*_step_many, or None when there
    are no parameters. Checks what C cannot: one dtype for all arrays, states[i][j] and gs[j]
    shaped like ps[j], the parameters and state C-contiguous and writeable (from_buffer
    refuses any other). The kernel itself refuses arrays of one parameter that overlap."""
    n = len(ps)
    if len(gs) != n or any(len(s) != n for s in states):
        raise ValueError(f"{op}: every list must have one entry per parameter ({n})")
    if n == 0:
        return None
    k = _kernels(op, *ps, *gs, *[a for s in states for a in s])
    shapes = [p.shape for p in ps]
    ct = k.ctype
    try:
        if [g.shape for g in gs] != shapes or any([a.shape for a in s] != shapes for s in states):
            raise ValueError
        pointers = [[_buf(ct, p, True) for p in ps], [_buf(ct, _contig(g)) for g in gs]]
        pointers += [[_buf(ct, a, True) for a in s] for s in states]
    except ValueError:
        for j, p in enumerate(ps):
            _check_in_place(op, p, gs[j], *[s[j] for s in states])  # says what is wrong
        raise
    return k, [p.size for p in ps], pointers


def _overlap_error(op: str, j: int, ps: list[np.ndarray], gs: list[np.ndarray], *states) -> None:
    """Raise the ValueError for parameter j, whose arrays the kernel found overlapping."""
    _explain_in_place(op, (ps[j], gs[j], *[s[j] for s in states]))
    raise ValueError(f"{op}: the arrays of parameter {j} overlap in memory")


# ---------------------------------------------------------------- matmul and linear layers
# the `act` codes of linear.c: the enum tg_activation of kernels.h, read through cffi, so C
# and Python share one list of codes ("sigmoid" -> lib.TG_ACT_SIGMOID, ...)
_ACTIVATION_CODES = {name: getattr(lib, f"TG_ACT_{name.upper()}") for name in ACTIVATIONS}


def _activation_code(activation: str) -> int:
    code = _ACTIVATION_CODES.get(activation)
    if code is None:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    return code


def _row_major(x: np.ndarray, trans: bool) -> tuple[np.ndarray, bool]:
    """x as a C-contiguous array plus its transpose flag, copying only when unavoidable.

    A transposed view y.T of a C-contiguous y is F-contiguous: the kernel can read y itself
    with the flag flipped, since op(x) is the same matrix either way.
    """
    if x.flags.c_contiguous:
        return x, trans
    if x.flags.f_contiguous:
        return x.T, not trans
    return np.ascontiguousarray(x), trans


def matmul(
    a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False
) -> np.ndarray:
    """op(a) (M,K) @ op(b) (K,N) -> (M,N), op = transpose when the flag is set."""
    k = _kernels("matmul", a, b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul: expected 2-D arrays, got shapes {a.shape} and {b.shape}")
    m, ka = a.shape[::-1] if trans_a else a.shape
    kb, n = b.shape[::-1] if trans_b else b.shape
    if ka != kb:
        raise ValueError(
            f"matmul: inner dimensions differ: a {a.shape} (trans_a={trans_a}) @ "
            f"b {b.shape} (trans_b={trans_b}) gives ({m},{ka}) @ ({kb},{n})"
        )
    if m == 0 or n == 0 or ka == 0:  # nothing to multiply: the reference's empty/zero result
        return numpy_backend.matmul(a, b, trans_a, trans_b)
    a, trans_a = _row_major(a, trans_a)
    b, trans_b = _row_major(b, trans_b)
    out = np.empty((m, n), k.dtype)
    ct = k.ctype
    k.matmul(m, n, ka, _buf(ct, a), int(trans_a), _buf(ct, b), int(trans_b), _buf(ct, out))
    return out


def _linear_shapes(op: str, x: np.ndarray, w: np.ndarray) -> tuple[int, int, int]:
    """(B, IN, OUT) for x (B,IN) and w (OUT,IN), or ValueError."""
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"{op}: expected x (B, in) and w (out, in), got {x.shape} and {w.shape}")
    return x.shape[0], x.shape[1], w.shape[0]


def linear(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, activation: str = "none", slope: float = 0.1
) -> np.ndarray:
    """y = act(x @ w.T + b): x (B, in), w (out, in), b (out,) or None -> y (B, out)."""
    act = _activation_code(activation)
    k = _kernels("linear", x, w) if b is None else _kernels("linear", x, w, b)
    bsz, n_in, n_out = _linear_shapes("linear", x, w)
    if b is not None and b.shape != (n_out,):
        raise ValueError(f"linear: bias must have shape ({n_out},) for w {w.shape}, got {b.shape}")
    if bsz == 0 or n_in == 0 or n_out == 0:
        return numpy_backend.linear(x, w, b, activation, slope)
    ct = k.ctype
    try:  # from_buffer refuses an array that is not C-contiguous: copy those, then retry
        inputs = _buf(ct, x), _buf(ct, w), _NULL if b is None else _buf(ct, b)
    except ValueError:
        b = None if b is None else np.ascontiguousarray(b)
        return linear(np.ascontiguousarray(x), np.ascontiguousarray(w), b, activation, slope)
    y = np.empty((bsz, n_out), k.dtype)
    k.linear_forward(bsz, n_in, n_out, *inputs, _buf(ct, y), act, float(slope))
    return y


def linear_backward(
    x: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    dy: np.ndarray,
    activation: str = "none",
    slope: float = 0.1,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(dx (B,in) or None, dw (out,in), db (out,)) of y = act(x @ w.T + b), from y (B,out)."""
    act = _activation_code(activation)
    k = _kernels("linear_backward", x, w, y, dy)
    bsz, n_in, n_out = _linear_shapes("linear_backward", x, w)
    if y.shape != (bsz, n_out) or dy.shape != (bsz, n_out):
        raise ValueError(
            f"linear_backward: y and dy must have shape ({bsz}, {n_out}) for x {x.shape} and "
            f"w {w.shape}, got {y.shape} and {dy.shape}"
        )
    if bsz == 0 or n_in == 0 or n_out == 0:
        return numpy_backend.linear_backward(x, w, y, dy, activation, slope, need_dx)
    ct, dt = k.ctype, k.dtype
    try:  # from_buffer refuses an array that is not C-contiguous: copy those, then retry
        inputs = _buf(ct, x), _buf(ct, w), _buf(ct, y), _buf(ct, dy)
    except ValueError:
        x, w, y, dy = (np.ascontiguousarray(a) for a in (x, w, y, dy))
        return linear_backward(x, w, y, dy, activation, slope, need_dx)
    dz = np.empty((bsz, n_out), dt)  # workspace for act'(y) * dy
    dx = np.empty((bsz, n_in), dt) if need_dx else None
    dw = np.empty((n_out, n_in), dt)
    db = np.empty(n_out, dt)
    k.linear_backward(
        bsz, n_in, n_out, *inputs, _buf(ct, dz), _NULL if dx is None else _buf(ct, dx),
        _buf(ct, dw), _buf(ct, db), act, float(slope),
    )  # fmt: skip
    return dx, dw, db


# ---------------------------------------------------------------- elementwise (NumPy broadcasting)
# (op code when the full-size operand is on the left, op code when it is on the right)
_BINARY_CODES = {
    "add": (lib.TG_ADD, lib.TG_ADD),
    "sub": (lib.TG_SUB, lib.TG_RSUB),
    "mul": (lib.TG_MUL, lib.TG_MUL),
    "div": (lib.TG_DIV, lib.TG_RDIV),
}


def _operand(op: str, x: object) -> np.ndarray | float:
    """An array, or a Python number (which, as in NumPy, takes the other operand's dtype)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, (int, float)):
        return float(x)
    raise TypeError(f"{op}: expected a NumPy array or a number, got {type(x).__name__}")


def _drop_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return shape[i:]


def _broadcast_shape(op: str, sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's rule: align the shapes on the right; paired sizes must be equal or 1.

    (Written out because np.broadcast_shapes costs microseconds on this hot path.)
    """
    n = max(len(sa), len(sb))
    out = []
    for x, y in zip((1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb, strict=True):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{op}: shapes {sa} and {sb} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def _binary(op: str, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """out = a OP b with NumPy broadcasting, dispatched to the kernel for the layout.

    The full-size operand is `big`; the other one, `small`, is the same shape, a scalar, a
    row (N,) repeated down the rows of big viewed as (M, N), or a column (M, 1) repeated
    across them. Any other broadcast is materialised with np.broadcast_to and then run as
    same-shape: always correct, only slower.
    """
    code, swapped_code = _BINARY_CODES[op]
    a, b = _operand(op, a), _operand(op, b)
    if isinstance(b, float) or isinstance(a, float):  # array OP number, or number OP array
        if isinstance(a, float):
            if isinstance(b, float):
                raise TypeError(f"{op}: at least one operand must be a NumPy array")
            a, b, code = b, a, swapped_code
        k = _kernels(op, a)
        out = np.empty(a.shape, k.dtype)
        if out.size:
            ct = k.ctype
            k.binary_scalar(code, a.size, _buf(ct, _contig(a)), b, _buf(ct, out))
        return out

    k = _kernels(op, a, b)
    big, small = a, b
    if a.shape != b.shape:
        shape = _broadcast_shape(op, a.shape, b.shape)
        if shape == b.shape:
            big, small, code = b, a, swapped_code
        elif shape != a.shape:  # both operands grow, e.g. (2,1,3) + (4,1): materialise both
            big = np.ascontiguousarray(np.broadcast_to(a, shape))
            small = np.ascontiguousarray(np.broadcast_to(b, shape))

    out = np.empty(big.shape, k.dtype)
    if out.size == 0:
        return out
    ct = k.ctype
    big = _contig(big)
    if small.shape == big.shape:
        k.binary(code, big.size, _buf(ct, big), _buf(ct, _contig(small)), _buf(ct, out))
    elif small.size == 1:
        k.binary_scalar(code, big.size, _buf(ct, big), small.item(), _buf(ct, out))
    else:
        n_cols = big.shape[-1]
        n_rows = big.size // n_cols
        small_shape = _drop_leading_ones(small.shape)
        big_ptr, out_ptr = _buf(ct, big), _buf(ct, out)
        if small_shape == (n_cols,):
            k.binary_row(code, n_rows, n_cols, big_ptr, _buf(ct, _contig(small)), out_ptr)
        elif small_shape == _drop_leading_ones(big.shape[:-1] + (1,)):
            k.binary_col(code, n_rows, n_cols, big_ptr, _buf(ct, _contig(small)), out_ptr)
        else:  # e.g. (5,4,3) + (4,1): repeat small to big's shape, then same-shape
            small = np.ascontiguousarray(np.broadcast_to(small, big.shape))
            k.binary(code, big.size, big_ptr, _buf(ct, small), out_ptr)
    return out


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, NumPy broadcasting."""
    return _binary("add", a, b)


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b, NumPy broadcasting."""
    return _binary("sub", a, b)


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b, NumPy broadcasting."""
    return _binary("mul", a, b)


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, NumPy broadcasting."""
    return _binary("div", a, b)


def _map(op: str, a: np.ndarray, *scalars: float) -> np.ndarray:
    """out = f(a) elementwise, any shape, by the kernel k.<op>(n, a, *scalars, out)."""
    k = _kernels(op, a)
    out = np.empty(a.shape, k.dtype)
    ct = k.ctype
    getattr(k, op)(a.size, _buf(ct, _contig(a)), *scalars, _buf(ct, out))
    return out


def _map_backward(op: str, x: np.ndarray, dy: np.ndarray, *scalars: float) -> np.ndarray:
    """dx from x (or y) and dy of one shape, by the kernel k.<op>(n, x, dy, *scalars, dx)."""
    k = _kernels(op, x, dy)
    _same_shape(op, x, dy)
    dx = np.empty(x.shape, k.dtype)
    ct = k.ctype
    getattr(k, op)(x.size, _buf(ct, _contig(x)), _buf(ct, _contig(dy)), *scalars, _buf(ct, dx))
    return dx


def neg(a: np.ndarray) -> np.ndarray:
    """-a."""
    return _map("neg", a)


def pow(a: np.ndarray, p: float | np.ndarray) -> np.ndarray:  # noqa: A001 - the op's name
    """a ** p, computed directly: p a Python number, or an array of a's shape and dtype."""
    if isinstance(p, np.ndarray):
        k = _kernels("pow", a, p)
        _same_shape("pow", a, p)
        out = np.empty(a.shape, k.dtype)
        if out.size:
            ct = k.ctype
            k.pow_tensor(a.size, _buf(ct, _contig(a)), _buf(ct, _contig(p)), _buf(ct, out))
        return out
    if not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"pow: the exponent must be a number or an array, got {type(p).__name__}")
    return _map("pow", a, float(p))


def pow_backward(
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    dy: np.ndarray,
    need_a: bool = True,
    need_b: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(da, db) of y = a ** b, all one shape; torch's conventions at b == 0 and a == 0."""
    k = _kernels("pow_backward", a, b, y, dy)
    for x in (b, y, dy):
        _same_shape("pow_backward", a, x)
    da = np.empty(a.shape, k.dtype) if need_a else None
    db = np.empty(a.shape, k.dtype) if need_b else None
    if a.size and (need_a or need_b):
        ct = k.ctype
        k.pow_tensor_backward(
            a.size, _buf(ct, _contig(a)), _buf(ct, _contig(b)), _buf(ct, _contig(y)),
            _buf(ct, _contig(dy)), _NULL if da is None else _buf(ct, da),
            _NULL if db is None else _buf(ct, db),
        )  # fmt: skip
    return da, db


def exp(a: np.ndarray) -> np.ndarray:
    """e ** a."""
    return _map("exp", a)


def log(a: np.ndarray) -> np.ndarray:
    """Natural log of a (NaN below 0, -inf at 0)."""
    return _map("log", a)


# ---------------------------------------------------------------- activations and their backward
def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a), without overflow for large |a|."""
    return _map("sigmoid", a)


def sigmoid_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy * y (1 - y), from the output y."""
    return _map_backward("sigmoid_backward", y, dy)


def tanh(a: np.ndarray) -> np.ndarray:
    """tanh a."""
    return _map("tanh", a)


def tanh_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy * (1 - y^2), from the output y."""
    return _map_backward("tanh_backward", y, dy)


def relu(a: np.ndarray) -> np.ndarray:
    """max(a, 0)."""
    return _map("relu", a)


def relu_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy where x > 0, else 0."""
    return _map_backward("relu_backward", x, dy)


def leaky_relu(a: np.ndarray, slope: float = 0.1) -> np.ndarray:
    """a where a > 0, else slope * a."""
    return _map("leaky_relu", a, float(slope))


def leaky_relu_backward(x: np.ndarray, dy: np.ndarray, slope: float = 0.1) -> np.ndarray:
    """dy where x > 0, else slope * dy."""
    return _map_backward("leaky_relu_backward", x, dy, float(slope))


# ---------------------------------------------------------------- reductions
def _sum_axes(a: np.ndarray, axis: int | tuple[int, ...]) -> list[int]:
    """The axes to sum as sorted non-negative ints, or ValueError/TypeError."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for ax in axes:
        try:
            i = operator.index(ax)
        except TypeError:
            raise TypeError(
                f"sum: axis must be an int, a tuple of ints or None, got {axis!r}"
            ) from None
        if not -a.ndim <= i < a.ndim:
            raise ValueError(f"sum: axis {ax} is out of range for shape {a.shape}")
        out.append(i % a.ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"sum: repeated axis in {axis!r}")
    return sorted(out)


def sum(  # noqa: A001 - the op's name
    a: np.ndarray, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> np.ndarray:
    """Sum over the given axes (all when None); always an array, 0-d for a full sum.

    Each run of adjacent summed axes is one call of the (outer, n, inner) kernel: for shape
    (2,3,4,5) and axes (1,2), outer = 2, n = 3*4, inner = 5. Summed axes are kept as size 1
    between runs, so the axis numbers of the remaining runs stay valid.
    """
    k = _kernels("sum", a)
    ct = k.ctype
    a = _contig(a)
    if axis is None:
        out = np.empty((), k.dtype)
        k.sum_all(a.size, _buf(ct, a), _buf(ct, out))
        return out.reshape((1,) * a.ndim) if keepdims else out
    axes = _sum_axes(a, axis)
    if not axes:
        return a.copy()
    runs: list[list[int]] = []  # [first, last] of each run of adjacent axes
    for ax in axes:
        if runs and runs[-1][1] == ax - 1:
            runs[-1][1] = ax
        else:
            runs.append([ax, ax])
    x = a
    final = tuple(d for i, d in enumerate(a.shape) if i not in axes)
    for r, (first, last) in enumerate(runs):
        shape = x.shape
        kept = shape[:first] + (1,) * (last + 1 - first) + shape[last + 1 :]
        # the last run writes the result in its final shape (size-1 axes dropped, the same
        # memory layout), so that it is an array of its own, not a view
        out = np.empty(final if r == len(runs) - 1 and not keepdims else kept, k.dtype)
        if out.size:
            outer, n, inner = (
                math.prod(shape[:first]),
                math.prod(shape[first : last + 1]),
                math.prod(shape[last + 1 :]),
            )
            k.sum_axis(outer, n, inner, _buf(ct, x), _buf(ct, out))
        x = out
    return x


def _axis_split(op: str, shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    """(outer, n, inner) of a C-contiguous array of `shape` seen along `axis`."""
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {axis!r}") from None
    if not -len(shape) <= ax < len(shape):
        raise ValueError(f"{op}: axis {axis} is out of range for shape {shape}")
    ax %= len(shape)
    return math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1 :])


def _extreme_dim(op: str, kernel: str, a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    k = _kernels(op, a)
    outer, n, inner = _axis_split(op, a.shape, axis)
    if n == 0:
        raise ValueError(f"{op}: axis {axis} of shape {a.shape} is empty: no {op[:3]}imum")
    ax = axis % a.ndim
    kept = a.shape[:ax] + (1,) + a.shape[ax + 1 :]
    values = np.empty(kept, k.dtype)
    indices = np.empty(kept, np.int64)
    if values.size:
        ct = k.ctype
        getattr(k, kernel)(
            outer, n, inner, _buf(ct, _contig(a)), _buf(ct, values), _buf("int64_t[]", indices)
        )
    return values, indices


def max_dim(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of the largest element along axis, kept as size 1 (first of ties,
    NaN largest)."""
    return _extreme_dim("max_dim", "argmax", a, axis)


def min_dim(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of the smallest element along axis, as max_dim."""
    return _extreme_dim("min_dim", "argmin", a, axis)


def select_dim_backward(
    indices: np.ndarray, dy: np.ndarray, shape: tuple[int, ...], axis: int
) -> np.ndarray:
    """dx of shape `shape`: dy put at indices along axis, 0 elsewhere."""
    k = _kernels("select_dim_backward", dy)
    outer, n, inner = _axis_split("select_dim_backward", tuple(shape), axis)
    if dy.size != outer * inner or indices.shape != dy.shape:
        raise ValueError(
            f"select_dim_backward: dy {dy.shape} and indices {indices.shape} do not fit "
            f"shape {tuple(shape)} along axis {axis}"
        )
    idx = _contig(np.asarray(indices, dtype=np.int64))
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"select_dim_backward: indices must lie in [0, {n})")
    dx = np.empty(shape, k.dtype)
    if dx.size:
        ct = k.ctype
        k.select_dim_backward(
            outer, n, inner, _buf("int64_t[]", idx), _buf(ct, _contig(dy)), _buf(ct, dx)
        )
    return dx


# ---------------------------------------------------------------- gather and scatter-add
def _row_numbers(op: str, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """rows as a C-contiguous int64 (n,) array with every entry in [0, n_rows), or ValueError
    (the kernels index memory with them, so they are checked here)."""
    if not isinstance(rows, np.ndarray) or rows.ndim != 1 or rows.dtype.kind not in "iu":
        raise ValueError(f"{op}: rows must be a 1-D integer array")
    rows = _contig(rows.astype(np.int64, copy=False))
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(f"{op}: rows must lie in [0, {n_rows}), got {rows.min()}..{rows.max()}")
    return rows


def gather_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows]: x (n_rows, cols), rows (n,) in [0, n_rows) -> (n, cols)."""
    k = _kernels("gather_rows", x)
    if x.ndim != 2:
        raise ValueError(f"gather_rows: x must be 2-D (rows, cols), got shape {x.shape}")
    rows = _row_numbers("gather_rows", rows, x.shape[0])
    out = np.empty((rows.size, x.shape[1]), k.dtype)
    if out.size:
        ct = k.ctype
        k.gather_rows(
            rows.size, x.shape[1], _buf(ct, _contig(x)), _buf("int64_t[]", rows), _buf(ct, out)
        )
    return out


def scatter_add_rows(g: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """dx (n_rows, cols) with dx[rows[j]] += g[j]: the backward of gather_rows."""
    k = _kernels("scatter_add_rows", g)
    rows = _row_numbers("scatter_add_rows", rows, n_rows)
    if g.ndim != 2 or g.shape[0] != rows.size:
        raise ValueError(f"scatter_add_rows: g must be ({rows.size}, cols), got {g.shape}")
    dx = np.empty((operator.index(n_rows), g.shape[1]), k.dtype)
    if dx.size:
        ct = k.ctype
        k.scatter_add_rows(
            rows.size, g.shape[1], n_rows, _buf(ct, _contig(g)), _buf("int64_t[]", rows),
            _buf(ct, dx),
        )  # fmt: skip
    return dx


# ---------------------------------------------------------------- softmax over the last axis
def _rowwise(op: str, a: np.ndarray) -> np.ndarray:
    """k.<op>(rows, cols, a, out) with a's leading dimensions flattened into rows."""
    k = _kernels(op, a)
    if a.ndim == 0:
        raise ValueError(f"{op}: needs an array with at least one axis, got shape ()")
    out = np.empty(a.shape, k.dtype)
    if a.size:  # also skips cols == 0: a row with no entries has no max
        cols = a.shape[-1]
        ct = k.ctype
        getattr(k, op)(a.size // cols, cols, _buf(ct, _contig(a)), _buf(ct, out))
    return out


def _rowwise_backward(op: str, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """k.<op>(rows, cols, y, dy, dx) with the leading dimensions flattened into rows."""
    k = _kernels(op, y, dy)
    _same_shape(op, y, dy)
    if y.ndim == 0:
        raise ValueError(f"{op}: needs arrays with at least one axis, got shape ()")
    dx = np.empty(y.shape, k.dtype)
    if y.size:
        cols = y.shape[-1]
        ct = k.ctype
        getattr(k, op)(
            y.size // cols, cols, _buf(ct, _contig(y)), _buf(ct, _contig(dy)), _buf(ct, dx)
        )
    return dx


def softmax(a: np.ndarray) -> np.ndarray:
    """e^(a - max) / sum e^(a - max) along the last axis; any shape (..., C)."""
    return _rowwise("softmax", a)


def softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """y * (dy - sum(dy * y)) along the last axis, from the output y."""
    return _rowwise_backward("softmax_backward", y, dy)


def log_softmax(a: np.ndarray) -> np.ndarray:
    """a - max - log(sum e^(a - max)) along the last axis; any shape (..., C)."""
    return _rowwise("log_softmax", a)


def log_softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy - e^y * sum(dy) along the last axis, from the output y."""
    return _rowwise_backward("log_softmax_backward", y, dy)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy: logits (B, C), labels (B,) ints in [0, C).

    Returns (loss as a 0-d array, dlogits (B, C) = (softmax(logits) - onehot(labels)) / B).
    """
    k = _kernels("cross_entropy", logits)
    if type(labels) is not np.ndarray or labels.dtype != np.int64 or logits.ndim != 2:
        labels = np.asarray(labels)
        check_labels(labels, logits.shape)  # the full check, with its clear messages
    elif labels.shape != logits.shape[:1]:
        check_labels(labels, logits.shape)
    bsz, n_classes = logits.shape
    loss = np.zeros((), k.dtype)
    dlogits = np.empty((bsz, n_classes), k.dtype)
    if bsz == 0:  # the mean of nothing is taken as 0, as in the reference
        return loss, dlogits
    labels = _contig(labels.astype(np.int64, copy=False))
    ct = k.ctype
    bad = k.cross_entropy(
        bsz, n_classes, _buf(ct, _contig(logits)), _buf("int64_t[]", labels), _buf(ct, loss),
        _buf(ct, dlogits),
    )  # fmt: skip
    if bad >= 0:  # the kernel checks the range in the same pass (cheaper than min/max here)
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {n_classes}), got {labels[bad]} at index {bad}"
        )
    return loss, dlogits


# ---------------------------------------------------------------- optimizer updates (in place)
def sgd_step(
    p: np.ndarray,
    g: np.ndarray,
    buf: np.ndarray | None,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> None:
    """PyTorch's SGD on p (any shape) in place; buf (like p) is the momentum buffer, or None
    when momentum == 0. See numpy_backend.sgd_step for the formula."""
    if momentum:
        if buf is None:
            raise ValueError("sgd_step: momentum != 0 needs a momentum buffer, got None")
        k = _kernels("sgd_step", p, g, buf)
        _check_in_place("sgd_step", p, g, buf)
    else:
        k = _kernels("sgd_step", p, g)
        _check_in_place("sgd_step", p, g)
    ct = k.ctype
    k.sgd_step(
        p.size, _buf(ct, p), _buf(ct, _contig(g)), _buf(ct, buf) if momentum else _NULL,
        float(lr), float(momentum), float(weight_decay), int(bool(nesterov)),
    )  # fmt: skip


def adam_step(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
) -> None:
    """Adam on p (any shape) in place, m and v (like p) updated too; step counts from 1.
    See numpy_backend.adam_step for the formula."""
    k = _kernels("adam_step", p, g, m, v)
    _check_in_place("adam_step", p, g, m, v)
    step = operator.index(step)
    if step < 1:
        raise ValueError(f"adam_step: step counts from 1, got {step}")
    ct = k.ctype
    k.adam_step(
        p.size, _buf(ct, p), _buf(ct, _contig(g)), _buf(ct, m), _buf(ct, v), float(lr),
        float(beta1), float(beta2), float(eps), float(weight_decay), step,
    )  # fmt: skip


def sgd_step_many(
    ps: list[np.ndarray],
    gs: list[np.ndarray],
    bufs: list[np.ndarray] | None,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> None:
    """sgd_step on every parameter ps[j] (gradient gs[j], momentum buffer bufs[j]; bufs None
    when momentum == 0), all in one C call. See numpy_backend.sgd_step for the formula."""
    if momentum and bufs is None:
        raise ValueError("sgd_step_many: momentum != 0 needs momentum buffers, got None")
    states = [bufs] if momentum else []
    args = _step_many_args("sgd_step_many", ps, gs, states)  # type: ignore[arg-type]
    if args is None:
        return
    k, sizes, (p_ptrs, g_ptrs, *state_ptrs) = args
    bad = k.sgd_step_many(
        len(ps), sizes, p_ptrs, g_ptrs, state_ptrs[0] if momentum else _NULL, float(lr),
        float(momentum), float(weight_decay), int(bool(nesterov)),
    )  # fmt: skip
    if bad >= 0:
        _overlap_error("sgd_step_many", bad, ps, gs, *states)


def adam_step_many(
    ps: list[np.ndarray],
    gs: list[np.ndarray],
    ms: list[np.ndarray],
    vs: list[np.ndarray],
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
) -> None:
    """adam_step on every parameter ps[j] (gradient gs[j], moments ms[j] and vs[j]), all in
    one C call. See numpy_backend.adam_step for the formula."""
    step = operator.index(step)
    if step < 1:
        raise ValueError(f"adam_step_many: step counts from 1, got {step}")
    args = _step_many_args("adam_step_many", ps, gs, [ms, vs])
    if args is None:
        return
    k, sizes, (p_ptrs, g_ptrs, m_ptrs, v_ptrs) = args
    bad = k.adam_step_many(
        len(ps), sizes, p_ptrs, g_ptrs, m_ptrs, v_ptrs, float(lr), float(beta1), float(beta2),
        float(eps), float(weight_decay), step,
    )  # fmt: skip
    if bad >= 0:
        _overlap_error("adam_step_many", bad, ps, gs, ms, vs)


# ---------------------------------------------------------------- profiling hook
@contextlib.contextmanager
def kernels_wrapped(
    wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]],
) -> Iterator[None]:
    """Inside the block, every C kernel this module calls goes through wrap(name, kernel).

    The hook for profilers (benchmarks/kernel_timing.py times each kernel call with it). For
    every kernel, wrap gets its C name ("tg_matmul_f32") and its cffi function, and returns
    the callable to use instead: same arguments, same result. On leaving the block, also by an
    exception, the kernels are what they were before. It applies to all threads; a block
    inside another wraps the outer block's wrappers. Outside a block it costs nothing: the
    per-dtype tables then hold the cffi functions themselves.
    """
    saved = [(k, dict(vars(k))) for k in _KERNELS.values()]
    try:
        for k, attrs in saved:
            for attr, fn in attrs.items():
                if attr not in ("dtype", "ctype"):
                    setattr(k, attr, wrap(fn.__name__, fn))
        yield
    finally:
        for k, attrs in saved:
            vars(k).update(attrs)


# ---------------------------------------------------------------- what has no kernel
def __getattr__(name: str) -> Any:
    """A primitive with no C kernel runs on the NumPy reference: the one place where the C
    backend falls back, so that a new op needs only its NumPy primitive (a kernel can come
    later, tested against it). Python calls this only for names not defined above."""
    if name.startswith("__"):  # module protocol lookups (__path__, ...) are not primitives
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        fallback = getattr(numpy_backend, name)
    except AttributeError:
        raise AttributeError(f"no backend has the primitive {name!r}") from None
    recording.refuse(f"{name} has no C kernel (it runs on NumPy)")
    return fallback
