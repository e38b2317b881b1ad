"""`Tensor`: an n-d array that remembers how it was computed, so it can give gradients.

A Tensor wraps a NumPy array (`.data`). Each op is a `Function` (ops/): applying one makes a
new Tensor whose `_ctx` remembers the Function and its inputs. `backward()` hands the graph to
the backward engine (autograd/engine.py), which walks it from the output back to the leaves,
applying the chain rule. The arrays themselves are computed by the current backend (NumPy or
C), chosen in backends/.

The class is long, so its parts live in files of their own: the in-place methods and the
version rule (tensors/inplace.py), indexing and item assignment (tensors/indexing.py), more
math methods (tensors/math_methods.py), printing (tensors/printing.py) and the dtype rules
(dtypes.py). `cat` and `stack` are in tensors/joining.py, torch's module-level functions in
tensors/creation.py and tensors/functions.py.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..devices import CPU, check_device, is_device
from ..dtypes import FLOAT_DTYPES, TYPE_NAMES, Operand, as_array, operand_array, resolve_dtype
from ..ops import activations, arithmetic, matmul, movement, reductions, softmax
from . import indexing, printing
from .inplace import InPlaceOps
from .math_methods import MathMethods

__all__ = ["Tensor"]


class Tensor(InPlaceOps, MathMethods):
    """Tensor(data, requires_grad=False, dtype=None): float32 unless dtype says otherwise,
    as torch.Tensor(data) is (torch.tensor(data), in tensors/creation.py, infers the dtype).

    `data` is anything np.asarray takes (or a Tensor). An array of the requested dtype is not
    copied: the Tensor shares its memory, like torch.from_numpy. int64 and bool Tensors hold
    labels, indices and masks and cannot require gradients.

    `.grad` is a Tensor (or None). `_version` counts the in-place changes of the data: autograd
    uses it to refuse a backward pass through values that were changed after the forward pass.
    """

    __slots__ = ("data", "_grad", "requires_grad", "_ctx", "_retain", "_vbox", "__weakref__")
    __hash__ = object.__hash__  # tensors key dicts by identity (== is elementwise)

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None
    ) -> None:
        if device is not None:
            check_device(device)
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = data.data
        dt = np.dtype(np.float32) if dtype is None else resolve_dtype(dtype)
        arr = as_array(data, "Tensor")
        if dt.kind == "i" and arr.dtype.kind == "f":
            if not np.all(np.mod(arr, 1) == 0):
                raise ValueError("Tensor: int64 tensor from data with fractional values")
            if arr.size and not np.all(np.abs(arr) < 2.0**63):
                raise OverflowError("Tensor: a value is out of the int64 range")
        self.data: np.ndarray = arr.astype(dt, copy=False)
        if requires_grad and dt not in FLOAT_DTYPES:
            raise TypeError("Tensor: only float tensors can require gradients")
        self.requires_grad: bool = bool(requires_grad)
        self._grad: Tensor | None = None
        self._ctx: Function | None = None
        self._retain = False
        # sharing another tensor's memory means sharing its version counter too
        self._vbox = source._vbox if source is not None and self.data is source.data else [0]

    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        """A Tensor around an op's output array, skipping the constructor's checks."""
        t = Tensor.__new__(Tensor)
        t.data, t._grad, t.requires_grad, t._ctx, t._retain, t._vbox = (
            data, None, False, None, False, [0]
        )  # fmt: skip
        return t

    # ------------------------------------------------------------------ basic properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> Any:
        """Always the CPU (devices.py)."""
        return CPU

    is_cuda = False

    def size(self, dim: int | None = None) -> Any:
        """The shape (a tuple), or the length of one dimension: torch's size()/size(dim)."""
        if dim is None:
            return self.data.shape
        return self.data.shape[self._axis(dim)]

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """np.asarray(tensor) gives the data (a copy only when a dtype change needs one)."""
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs meeting a Tensor. `ndarray + Tensor` (and -, *, /, **, @, comparisons)
        gives a Tensor in the graph, as `Tensor + ndarray` does; any other use, such as
        np.isfinite(t) or `arr -= t` (`p.data -= lr * p.grad`), works on the Tensor's array."""
        if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in _REFLECTED:
            a, b = inputs
            if not isinstance(a, Tensor):  # ndarray OP Tensor: the Tensor's reflected op
                return getattr(b, _REFLECTED[ufunc][1])(a)
            return getattr(a, _REFLECTED[ufunc][0])(b)
        inputs = tuple(x.data if isinstance(x, Tensor) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.data if isinstance(x, Tensor) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item(): tensor of shape {self.shape} has {self.numel()} elements, not 1"
            )
        return self.data.item()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all(), or compare one element"
            )
        return bool(self.data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor used as an index (`names[t]`, `range(t)`)."""
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(
                f"only one-element integer tensors can be used as an index, not a "
                f"{self.dtype} tensor of shape {self.shape}"
            )
        return int(self.data.item())

    def __format__(self, spec: str) -> str:
        """format(t, "+.2f") formats a one-element tensor's number; "" gives str(t)."""
        if not spec:
            return str(self)
        if self.data.size != 1:
            raise TypeError(f"format spec {spec!r} needs a one-element tensor, got {self.shape}")
        return format(self.item(), spec)

    def tolist(self) -> Any:
        return self.data.tolist()

    def __repr__(self) -> str:
        return printing.tensor_str(self)

    # ------------------------------------------------------------------ gradients and leaves
    @property
    def grad(self) -> Tensor | None:
        """d(output)/d(self) after backward(), as a Tensor of this tensor's shape (or None).
        A non-leaf keeps none unless retain_grad() was called: reading it warns, as torch
        does, with what to do (also for a parameter turned non-leaf by `W = W - lr * W.grad`)."""
        if self._grad is None and self._ctx is not None and not self._retain:
            warnings.warn(
                f".grad of a non-leaf tensor (made by {type(self._ctx).__name__}) is None, since "
                "backward() fills .grad only for leaves: call .retain_grad() on it before "
                "backward() to keep it, or, if it is a parameter you updated with "
                "`W = W - lr * W.grad`, update it in place so that it stays a leaf: "
                "`with no_grad(): W -= lr * W.grad`",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            arr = value.data if isinstance(value, Tensor) else as_array(value, "grad")
            if arr.shape != self.shape:
                raise ValueError(
                    f"grad: shape {arr.shape} does not match the tensor's {self.shape}"
                )
            if not isinstance(value, Tensor):  # an array: copied, never aliased
                value = Tensor._wrap(np.array(arr, dtype=self.dtype))
            elif value.dtype != self.dtype:
                raise TypeError(f"grad: a {value.dtype} gradient for a {self.dtype} tensor")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True unless an op made this tensor inside a recorded graph (torch's rule)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The op that made this tensor in the graph (None for leaves)."""
        return self._ctx

    @property
    def _version(self) -> int:
        return self._vbox[0]

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of this leaf on (or off), in place; returns self."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False): only leaves can stop requiring grad; use detach()"
            )
        if requires_grad and self.dtype not in FLOAT_DTYPES:
            raise TypeError("requires_grad_(): only float tensors can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and the version counter)."""
        t = Tensor._wrap(self.data)
        t._vbox = self._vbox
        return t

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (the gradient passes straight through)."""
        return movement.Contiguous.apply(self, copy=True)

    def zero_grad(self) -> None:
        self._grad = None

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retain = True
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Tensor:
        """to(dtype), to(device), to(device, dtype), to(other_tensor), as torch. Every device
        but the CPU raises (devices.py); `non_blocking` and `copy` are accepted."""
        unknown = set(kwargs) - {"non_blocking", "copy", "memory_format"}
        if unknown:
            raise TypeError(f"to() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif is_device(a):
                device = a
            else:
                dtype = a
        check_device(device)
        if dtype is None:
            return self
        dt = resolve_dtype(dtype)
        return self if dt == self.dtype else movement.Cast.apply(self, dtype=dt)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device: Any = None) -> Tensor:
        check_device("cuda" if device is None else device)
        return self

    def type(self, dtype: Any = None) -> Any:
        """type() -> the type name ("torch.FloatTensor"); type(dtype or that name) -> a cast."""
        if dtype is None:
            return TYPE_NAMES[self.dtype]
        if isinstance(dtype, str) and dtype.startswith("torch."):
            by_name = {v: k for k, v in TYPE_NAMES.items()}
            if dtype not in by_name:
                raise TypeError(f"type(): unknown tensor type {dtype!r}")
            dtype = by_name[dtype]
        return self.to(dtype)

    def int(self) -> Tensor:
        """int64: the integer dtype tensors have here (torch gives int32)."""
        return self.to(np.int64)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def zeros(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.zeros(_shape_arg(shape)), requires_grad, dtype)

    @staticmethod
    def ones(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.ones(_shape_arg(shape)), requires_grad, dtype)

    @staticmethod
    def randn(*shape: int, seed: int | None = None, dtype: Any = None, requires_grad: bool = False):
        rng = np.random.default_rng(seed)
        return Tensor(rng.standard_normal(_shape_arg(shape)), requires_grad, dtype)

    @staticmethod
    def arange(*args: int, dtype: Any = np.int64) -> Tensor:
        """Tensor.arange(n) or arange(start, stop[, step]): int64 unless dtype says otherwise."""
        return Tensor(np.arange(*args), dtype=dtype)

    # ------------------------------------------------------------------ backward
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        *,
        grad: Any = None,
    ) -> None:
        """Fill `.grad` of every leaf this tensor depends on with d(self)/d(leaf).

        `gradient` (or its older name `grad`) is d(final)/d(self); it may be left out when self
        has one element (it is 1). It is copied, never kept. Gradients add up over calls, as in
        PyTorch: call zero_grad between steps. The arrays the graph saved for backward are
        freed as it goes, so a second backward through the same graph raises unless the first
        one had retain_graph=True.
        """
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): higher-order gradients are not supported"
            )
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward(): pass gradient= or grad=, not both")
            gradient = grad
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicit only for one-element outputs, "
                    f"not shape {self.shape}; pass gradient="
                )
            g = np.ones(self.shape, dtype=self.dtype)
        else:
            arr = gradient.data if isinstance(gradient, Tensor) else as_array(gradient, "backward")
            g = np.array(arr, dtype=self.dtype)  # a copy: the caller's array is never a .grad
            if g.shape != self.shape:
                raise ValueError(f"backward(): grad shape {g.shape} != tensor shape {self.shape}")
        engine.backward(self, g, retain_graph=bool(retain_graph))

    # ------------------------------------------------------------------ arithmetic
    def _pair(self, other: Operand) -> tuple[Tensor, Tensor]:
        """Both operands as Tensors of one float dtype.

        Python numbers and arrays take this tensor's dtype (so `x * 2.0` and `x @ ndarray` stay
        float32 for a float32 x); two tensors meet at the wider float dtype.
        """
        if isinstance(other, Tensor):
            b = other
        else:
            dt = self.dtype if self.dtype.kind == "f" else np.dtype(np.float32)
            b = Tensor._wrap(operand_array(other, dt).astype(dt, copy=False))
        if self.dtype == b.dtype and self.dtype.kind == "f":
            return self, b
        floats = [t.dtype for t in (self, b) if t.dtype.kind == "f"]
        dt = max(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float32)
        return self.to(dt), b.to(dt)

    def __add__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.add, other)
        return arithmetic.Add.apply(*self._pair(other))

    def __radd__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.add, other, reflected=True)
        a, b = self._pair(other)
        return arithmetic.Add.apply(b, a)

    def __sub__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.subtract, other)
        return arithmetic.Sub.apply(*self._pair(other))

    def __rsub__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.subtract, other, reflected=True)
        a, b = self._pair(other)
        return arithmetic.Sub.apply(b, a)

    def __mul__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.multiply, other)
        return arithmetic.Mul.apply(*self._pair(other))

    def __rmul__(self, other: Operand) -> Tensor:
        if self.data.dtype.kind != "f" and _integer(other):
            return self._integer_op(np.multiply, other, reflected=True)
        a, b = self._pair(other)
        return arithmetic.Mul.apply(b, a)

    def __truediv__(self, other: Operand) -> Tensor:
        return arithmetic.Div.apply(*self._pair(other))

    def __rtruediv__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return arithmetic.Div.apply(b, a)

    def _integer_op(self, ufunc: Any, other: Any, reflected: bool = False) -> Tensor:
        """int64 (or bool) OP integer stays an int64 tensor, as in torch; no gradient."""
        a = self.data if self.dtype.kind != "b" else self.data.astype(np.int64)
        b = operand_array(other, np.dtype(np.int64))
        if b.dtype.kind == "b":
            b = b.astype(np.int64)
        return Tensor._wrap(np.asarray(ufunc(b, a) if reflected else ufunc(a, b)))

    def __floordiv__(self, other: Operand) -> Tensor:
        """Floor division, outside the graph (torch gives it no gradient either)."""
        return (
            self._integer_op(np.floor_divide, other)
            if _integer(other) and (self.dtype.kind != "f")
            else Tensor._wrap(np.asarray(np.floor_divide(*self._arrays(other))))
        )

    def __mod__(self, other: Operand) -> Tensor:
        """The remainder with the divisor's sign (Python's and torch's %), outside the graph."""
        return (
            self._integer_op(np.mod, other)
            if _integer(other) and (self.dtype.kind != "f")
            else Tensor._wrap(np.asarray(np.mod(*self._arrays(other))))
        )

    def _arrays(self, other: Operand) -> tuple[np.ndarray, np.ndarray]:
        a, b = self._pair(other)
        return a.data, b.data

    def _logical(self, other: Any, ufunc: Any) -> Tensor:
        b = other.data if isinstance(other, Tensor) else np.asarray(other)
        if self.dtype.kind == "f" or b.dtype.kind == "f":
            raise TypeError(f"{ufunc.__name__}: needs bool or integer tensors, not floats")
        return Tensor._wrap(np.asarray(ufunc(self.data, b)))

    def __and__(self, other: Any) -> Tensor:
        return self._logical(other, np.bitwise_and)

    def __or__(self, other: Any) -> Tensor:
        return self._logical(other, np.bitwise_or)

    def __xor__(self, other: Any) -> Tensor:
        return self._logical(other, np.bitwise_xor)

    def __invert__(self) -> Tensor:
        """~mask: the logical not of a bool tensor (bitwise not of an integer one)."""
        if self.dtype.kind == "f":
            raise TypeError("~ (bitwise not) needs a bool or integer tensor, not a float one")
        return Tensor._wrap(np.invert(self.data))

    def __neg__(self) -> Tensor:
        return arithmetic.Neg.apply(self._float())

    def __pow__(self, p: Operand) -> Tensor:
        """self ** p, computed directly (so (-2) ** 3 = -8 and 0 ** 0 = 1, as in torch)."""
        if isinstance(p, (int, float, np.number)) and not isinstance(p, (bool, np.bool_)):
            return arithmetic.Pow.apply(self._float(), p=float(p))
        a, b = self._pair(p)
        return arithmetic.PowTensor.apply(a, b)

    def __rpow__(self, base: Operand) -> Tensor:
        a, b = self._pair(base)
        return arithmetic.PowTensor.apply(b, a)

    # method forms, as in torch
    def add(self, other: Operand, alpha: float = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Operand, alpha: float = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Operand) -> Tensor:
        return self * other

    def div(self, other: Operand) -> Tensor:
        return self / other

    def neg(self) -> Tensor:
        return -self

    def pow(self, exponent: Operand) -> Tensor:
        return self**exponent

    # comparisons: bool tensors, outside the graph (they have no gradient)
    def _compare(self, other: Any, ufunc: Any) -> Tensor:
        if not isinstance(other, (Tensor, np.ndarray, int, float, np.number, list, tuple)):
            return NotImplemented
        b = other.data if isinstance(other, Tensor) else operand_array(other, self.dtype)
        return Tensor._wrap(np.asarray(ufunc(self.data, b)))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def eq(self, other: Any) -> Tensor:
        return self._compare(other, np.equal)

    def any(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.any()))

    def all(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.all()))

    def __matmul__(self, other: Operand) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return b.matmul(a)

    def _float(self) -> Tensor:
        return self if self.dtype in FLOAT_DTYPES else self.to(np.float32)

    def matmul(self, other: Operand) -> Tensor:
        """self @ other with NumPy's rules: 1-D operands are vectors, N-D ones stacks."""
        a, b = self._pair(other)
        return matmul.matmul(a._float(), b._float())

    # ------------------------------------------------------------------ elementwise functions
    def exp(self) -> Tensor:
        return activations.Exp.apply(self._float())

    def log(self) -> Tensor:
        return activations.Log.apply(self._float())

    def sigmoid(self) -> Tensor:
        return activations.Sigmoid.apply(self._float())

    def tanh(self) -> Tensor:
        return activations.Tanh.apply(self._float())

    def relu(self) -> Tensor:
        return activations.ReLU.apply(self._float())

    def leaky_relu(self, negative_slope: float = 0.1) -> Tensor:
        """x where x > 0, else negative_slope * x. The default 0.1 is the course's LeakyReLU,
        max(0.1x, x); torch's default is 0.01 (pass negative_slope=0.01 for it)."""
        return activations.LeakyReLU.apply(self._float(), slope=float(negative_slope))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        lo, hi = (float(v) if isinstance(v, Tensor) else v for v in (min, max))
        return activations.Clamp.apply(self._float(), lo=lo, hi=hi)

    clip = clamp

    def sqrt(self) -> Tensor:
        return self**0.5

    # ------------------------------------------------------------------ reductions
    def sum(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **aliases: Any
    ) -> Tensor:
        """The sum over dim (all elements by default). Integer and bool tensors sum to an
        int64 tensor, as in torch (`(pred == y).sum()` counts), outside the graph."""
        dim, keepdim = _aliases("sum", dim, keepdim, aliases)
        if self.dtype.kind in "biu":
            axes = self._axes(dim)
            return Tensor._wrap(
                np.asarray(self.data.sum(axis=axes, keepdims=keepdim, dtype=np.int64))
            )
        return reductions.Sum.apply(self, axis=self._axes(dim), keepdims=keepdim)

    def mean(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, **aliases: Any
    ) -> Tensor:
        """The sum divided by the count; over no elements it is NaN, as in torch."""
        dim, keepdim = _aliases("mean", dim, keepdim, aliases)
        if self.dtype.kind in "biu":
            return self._float().mean(dim, keepdim)
        axes = self._axes(dim)
        n = self.numel() if axes is None else int(np.prod([self.shape[a] for a in axes]))
        return self.sum(dim, keepdim) * (1.0 / n if n else float("nan"))

    def max(self, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Any:
        """max() -> the largest value (0-d); max(dim) -> (values, indices), like torch;
        max(other_tensor) -> the elementwise maximum.

        Gradient: max(dim) sends it to the one element its index names (the first of equal
        maxima, as that index is); max() over everything splits it evenly between ties.
        """
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        dim, keepdim = _aliases("max", dim, keepdim, aliases)
        return self._extreme("max", dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Any:
        """min() -> the smallest value (0-d); min(dim) -> (values, indices). See max()."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        dim, keepdim = _aliases("min", dim, keepdim, aliases)
        return self._extreme("min", dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Indices of the largest values (the first of ties) as an int64 Tensor; no gradient.

        Without dim: the index into the flattened tensor."""
        dim, keepdim = _aliases("argmax", dim, keepdim, aliases)
        return self._arg_extreme("max", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Indices of the smallest values (the first of ties), as argmax."""
        dim, keepdim = _aliases("argmin", dim, keepdim, aliases)
        return self._arg_extreme("min", dim, keepdim)

    def _extreme(self, which: str, dim: int | None, keepdim: bool) -> Any:
        if dim is None:
            return reductions.extreme_all(self, which)
        return reductions.extreme_along(self, which, self._axis(dim), keepdim)

    def _arg_extreme(self, which: str, dim: int | None, keepdim: bool) -> Tensor:
        with no_grad():
            if dim is None:
                return reductions.arg_extreme_all(self, which, keepdim)
            return self._extreme(which, dim, keepdim).indices

    def _axis(self, dim: int) -> int:
        """One dim as a non-negative axis (a 0-d tensor accepts 0 and -1, as in torch)."""
        n = max(self.ndim, 1)
        d = operator.index(dim)
        if not -n <= d < n:
            raise IndexError(f"dim {dim} is out of range for a tensor of shape {self.shape}")
        return d % n

    def _axes(self, dim: int | Sequence[int] | None) -> tuple[int, ...] | None:
        if dim is None:
            return None
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        out = [self._axis(d) for d in dims]
        if len(set(out)) != len(out):
            raise ValueError(f"dim {dim} repeats a dimension")
        if self.ndim == 0:  # a 0-d tensor's dim 0 is the tensor itself: nothing to reduce
            return ()
        return tuple(out)

    # ------------------------------------------------------------------ softmax
    def softmax(self, dim: int = -1) -> Tensor:
        self._axes(dim)
        if self.ndim == 0:
            return self.reshape(1).softmax(0).reshape(())
        return softmax.Softmax.apply(self._float(), dim=dim)

    def log_softmax(self, dim: int = -1) -> Tensor:
        self._axes(dim)
        if self.ndim == 0:
            return self.reshape(1).log_softmax(0).reshape(())
        return softmax.LogSoftmax.apply(self._float(), dim=dim)

    # ------------------------------------------------------------------ shapes
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        new = _shape_arg(shape)
        try:
            self.data.reshape(new)  # a view: only checks that the sizes agree
        except ValueError as e:
            raise ValueError(f"reshape: cannot reshape {self.shape} into {new}") from e
        return movement.Reshape.apply(self, shape=new)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = (d % self.ndim for d in (start_dim, end_dim))
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(*self.shape[:s], -1, *self.shape[e + 1 :])

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """Drop dimensions of size 1 (all of them, or those of `dim` that are size 1)."""
        if dim is None:
            keep = [n for n in self.shape if n != 1]
        else:
            axes = set(self._axes(dim) or ())
            keep = [n for i, n in enumerate(self.shape) if not (i in axes and n == 1)]
        return self if len(keep) == self.ndim else self.reshape(*keep)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1 at `dim` (in [-ndim-1, ndim])."""
        d = operator.index(dim)
        if not -self.ndim - 1 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for shape {self.shape}")
        d = d % (self.ndim + 1)
        return self.reshape(*self.shape[:d], 1, *self.shape[d:])

    def expand(self, *sizes: int | Sequence[int]) -> Tensor:
        """A broadcast view with new sizes; -1 keeps a size; new dims go in front (torch)."""
        new = list(_shape_arg(sizes))
        lead = len(new) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {tuple(new)} has fewer dims than shape {self.shape}")
        for i, n in enumerate(self.shape):
            if new[lead + i] == -1:
                new[lead + i] = n
            elif n != 1 and new[lead + i] != n:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {tuple(sizes)}")
        if any(n < 0 for n in new):
            raise ValueError(f"expand: -1 is not allowed for a new dimension, got {tuple(sizes)}")
        return movement.Expand.apply(self, shape=tuple(new))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def contiguous(self) -> Tensor:
        """self when its data is C-contiguous, else a C-contiguous copy (in the graph)."""
        if self.data.flags.c_contiguous:
            return self
        return movement.Contiguous.apply(self, copy=False)

    def transpose(self, dim0: int = 0, dim1: int = 1) -> Tensor:
        return movement.Transpose.apply(self, dim0=self._axis(dim0), dim1=self._axis(dim1))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with <= 2 dims, got shape {self.shape}")
        return self.T

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (the matrix transpose for 2-D)."""
        if self.ndim < 2:
            return self
        if self.ndim == 2:
            return self.transpose(0, 1)
        return self.permute(*reversed(range(self.ndim)))

    def permute(self, *dims: int) -> Tensor:
        dims = tuple(_shape_arg(dims))
        if len(dims) != self.ndim or sorted(d % max(self.ndim, 1) for d in dims) != list(
            range(self.ndim)
        ):
            raise ValueError(f"permute: {dims} is not a permutation of {self.ndim} dimensions")
        out, order = self, list(range(self.ndim))
        for i, d in enumerate(d % self.ndim for d in dims):  # as a sequence of swaps
            j = order.index(d)
            if j != i:
                out = out.transpose(i, j)
                order[i], order[j] = order[j], order[i]
        return out

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, idx: Any) -> Tensor:
        """NumPy/torch indexing: ints, slices, None, ..., and integer or bool index tensors
        (tensors/indexing.py)."""
        return indexing.getitem(self, idx)

    def __setitem__(self, idx: Any, value: Any) -> None:
        """x[idx] = value, in place, where no gradient is recorded (tensors/indexing.py)."""
        indexing.setitem(self, idx, value)


_REFLECTED = {
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.equal: ("__eq__", "__eq__"),
    np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
}


def _integer(x: Any) -> bool:
    """An int, a bool, or an integer/bool tensor or array (no float anywhere)."""
    if isinstance(x, (bool, int, np.integer, np.bool_)):
        return True
    dt = getattr(x, "dtype", None)
    return dt is not None and np.dtype(dt).kind in "biu"


def _aliases(what: str, dim: Any, keepdim: bool, aliases: dict[str, Any]) -> tuple[Any, bool]:
    """NumPy's spellings torch accepts too: axis= for dim=, keepdims= for keepdim=."""
    for name, value in aliases.items():
        if name == "axis" and dim is None:
            dim = value
        elif name == "keepdims":
            keepdim = bool(value)
        else:
            raise TypeError(f"{what}() got an unexpected keyword argument {name!r}")
    return dim, keepdim


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)
