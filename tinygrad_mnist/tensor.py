"""`Tensor`: an n-d array that remembers how it was computed, so it can give gradients.

A Tensor wraps a NumPy array (`.data`). Each op is a `Function` (ops/): applying one makes a
new Tensor whose `_ctx` remembers the Function and its inputs. `backward()` walks that graph
from the output back to the leaves, in reverse topological order, applying the chain rule.
The arrays themselves are computed by the current backend (NumPy or C), chosen in backends/.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Union

import numpy as np

from . import backends
from .function import FREED, Function
from .grad_mode import is_grad_enabled, no_grad
from .ops import activations, arithmetic, matmul, movement, reductions, softmax

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DTYPES = FLOAT_DTYPES + (np.dtype(np.int64), np.dtype(np.bool_))
Operand = Union["Tensor", float, int, np.ndarray]

__all__ = ["MinMax", "Tensor", "cat", "no_grad", "stack"]


class MinMax(NamedTuple):
    """What max(dim)/min(dim) return, like torch.return_types.max: (values, indices)."""

    values: Tensor
    indices: Tensor


def _resolve_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(
            f"Tensor: unknown dtype {dtype!r}; use float32, float64, int64 or bool"
        ) from e
    if dt not in DTYPES:
        raise TypeError(f"Tensor: dtype {dt} is not supported; use float32, float64, int64 or bool")
    return dt


def _as_array(data: Any, what: str) -> np.ndarray:
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


class Tensor:
    """Tensor(data, requires_grad=False, dtype=None): float32 unless dtype says otherwise.

    `data` is anything np.asarray takes (or a Tensor). An array of the requested dtype is not
    copied: the Tensor shares its memory, like torch.from_numpy. int64 and bool Tensors hold
    labels, indices and masks and cannot require gradients.

    `.grad` is a Tensor (or None). `_version` counts the in-place changes of the data: autograd
    uses it to refuse a backward pass through values that were changed after the forward pass.
    """

    __slots__ = ("data", "_grad", "requires_grad", "_ctx", "_retain", "_vbox", "__weakref__")
    __hash__ = object.__hash__  # tensors key dicts by identity (== is elementwise)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = data.data
        dt = np.dtype(np.float32) if dtype is None else _resolve_dtype(dtype)
        arr = _as_array(data, "Tensor")
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

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A Tensor around an op's output array, skipping the constructor's checks."""
        t = cls.__new__(cls)
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

    def tolist(self) -> Any:
        return self.data.tolist()

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    # ------------------------------------------------------------------ gradients and leaves
    @property
    def grad(self) -> Tensor | None:
        """d(output)/d(self) after backward(), as a Tensor of this tensor's shape (or None)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            arr = value.data if isinstance(value, Tensor) else _as_array(value, "grad")
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

    def to(self, dtype: Any) -> Tensor:
        dt = _resolve_dtype(dtype)
        return self if dt == self.dtype else movement.Cast.apply(self, dtype=dt)

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
            arr = gradient.data if isinstance(gradient, Tensor) else _as_array(gradient, "backward")
            g = np.array(arr, dtype=self.dtype)  # a copy: the caller's array is never a .grad
            if g.shape != self.shape:
                raise ValueError(f"backward(): grad shape {g.shape} != tensor shape {self.shape}")
        keep = bool(retain_graph)

        # Tensors hash by identity, so they key these dicts and sets directly.
        grads: dict[Tensor, np.ndarray] = {self: g}
        adopted: set[int] = set()  # ids of arrays already taken as some leaf's .grad
        for t in reversed(self._topo_order()):
            g = grads.pop(t, None)
            if g is None:
                continue
            if type(g) is not np.ndarray:  # NumPy turns 0-d results into scalars
                g = np.asarray(g, dtype=t.data.dtype)
            ctx = t._ctx
            if ctx is None or t._retain:  # a leaf (or a tensor asked to keep its grad)
                t._accumulate(g, adopted)
            if ctx is None:
                continue
            if ctx.saved is FREED:
                raise RuntimeError(
                    f"backward(): trying to backward through the graph a second time: "
                    f"{type(ctx).__name__} already freed the arrays it saved. Pass "
                    "retain_graph=True to the first backward() to keep them, or redo the "
                    "forward pass."
                )
            arrays = ctx.saved_arrays()
            if arrays:
                stale = ctx.stale_input(t, arrays)
                if stale is not None:
                    raise RuntimeError(
                        f"backward(): a tensor of shape {stale.shape} that {type(ctx).__name__} "
                        "saved for backward was modified by an in-place operation after the "
                        "forward pass, so its gradient would use the new values. Call "
                        "optimizer.step() (and other in-place updates) after backward(), or "
                        "redo the forward pass."
                    )
            parent_grads = ctx.backward(g)
            if arrays and not keep:
                ctx.saved = FREED
            for p, pg in zip(ctx.parents, parent_grads):
                if pg is None or not p.requires_grad:
                    continue
                if pg.shape != p.data.shape:  # an op's backward broke the contract: say which
                    raise RuntimeError(
                        f"{type(ctx).__name__}.backward gave grad of shape {pg.shape} "
                        f"for an input of shape {p.shape}"
                    )
                prev = grads.get(p)
                grads[p] = pg if prev is None else prev + pg

    def _accumulate(self, g: np.ndarray, adopted: set[int]) -> None:
        # Take the array as our .grad without a copy when nothing else can see it.
        grad = self._grad
        if grad is None:
            f = g.flags
            if f.owndata and f.writeable and f.c_contiguous and id(g) not in adopted:
                adopted.add(id(g))
                arr = g if g.dtype == self.data.dtype else g.astype(self.data.dtype)
            else:
                arr = np.array(g, dtype=self.data.dtype)
            self._grad = Tensor._wrap(arr)
        elif grad.data.flags.writeable and grad.data.dtype == self.data.dtype:
            grad.data += g  # in place, as PyTorch accumulates
            grad._vbox[0] += 1
        else:
            self._grad = Tensor._wrap((grad.data + g).astype(self.data.dtype, copy=False))

    def _topo_order(self) -> list[Tensor]:
        """Every tensor in the graph behind self, each after all of its inputs.

        Iterative depth-first search (an explicit stack), so deep graphs cannot hit Python's
        recursion limit."""
        order: list[Tensor] = []
        visited: set[Tensor] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        push, pop = stack.append, stack.pop
        while stack:
            t, inputs_done = pop()
            if inputs_done:  # every input of t is already in `order`
                order.append(t)
                continue
            if t in visited:
                continue
            visited.add(t)
            push((t, True))
            if t._ctx is not None:
                for p in t._ctx.parents:
                    if p.requires_grad and p not in visited:
                        if p._ctx is None:  # a leaf has no inputs: it can go in order now
                            visited.add(p)
                            order.append(p)
                        else:
                            push((p, False))
        return order

    # ------------------------------------------------------------------ in-place updates
    # As in PyTorch: they change `data` itself (every view sees it), keep requires_grad, bump
    # the version counter, and return self. A tensor that requires grad may be changed only
    # under no_grad(): otherwise the change would have to be recorded in the graph.
    def _check_in_place(self, op: str) -> None:
        if self.requires_grad and is_grad_enabled():
            if self._ctx is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad cannot be changed in place while "
                    "the graph is recorded; do the update inside `with no_grad():`"
                )
            raise RuntimeError(
                f"{op}: in-place changes of a tensor inside a recorded graph are not "
                "supported; write it out of place (y = y + 1) or use no_grad()"
            )
        if not self.data.flags.writeable:
            raise ValueError(
                f"{op}: this tensor's array is read-only (e.g. an expand() view or a read-only "
                "NumPy array); make a copy with .clone() first"
            )

    def _write(self, op: str, values: np.ndarray) -> Tensor:
        if values.shape != self.shape:
            try:
                values = np.broadcast_to(values, self.shape)
            except ValueError:
                raise ValueError(
                    f"{op}: a result of shape {values.shape} does not fit in place into "
                    f"shape {self.shape}"
                ) from None
        try:
            np.copyto(self.data, values, casting="same_kind")
        except TypeError:
            raise TypeError(
                f"{op}: a {values.dtype} result cannot be stored in place in a {self.dtype} tensor"
            ) from None
        self._vbox[0] += 1
        return self

    def _in_place(self, op: str, name: str, other: Operand) -> Tensor:
        self._check_in_place(op)
        if isinstance(other, Tensor) and other.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{op}: the operand requires grad, and an in-place change is not recorded in "
                "the graph; write it out of place (x = x + y) or use no_grad()"
            )
        b = other.data if isinstance(other, Tensor) else _operand_array(other, self.dtype)
        if self.dtype in FLOAT_DTYPES:
            be = backends.current()
            b = b.astype(self.dtype, copy=False)
            try:
                out = getattr(be, name)(self.data, b)
            except ValueError:
                raise ValueError(
                    f"{op}: shape {b.shape} does not broadcast in place to shape {self.shape}"
                ) from None
        else:  # integer tensors: NumPy's own arithmetic
            out = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[name](
                self.data, b
            )
        return self._write(op, out)

    def add_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place("add_", "add", other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place("sub_", "sub", other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other: Operand) -> Tensor:
        return self._in_place("mul_", "mul", other)

    def div_(self, other: Operand) -> Tensor:
        return self._in_place("div_", "div", other)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: float) -> Tensor:
        self._check_in_place("fill_")
        return self._write("fill_", _operand_array(value, self.dtype))

    def copy_(self, src: Operand) -> Tensor:
        """Copy src's values into this tensor (src broadcasts to this shape; dtype converts)."""
        self._check_in_place("copy_")
        arr = src.data if isinstance(src, Tensor) else _operand_array(src, self.dtype)
        if arr.shape != self.shape:
            try:
                arr = np.broadcast_to(arr, self.shape)
            except ValueError:
                raise ValueError(
                    f"copy_: shape {arr.shape} does not broadcast to {self.shape}"
                ) from None
        np.copyto(self.data, arr, casting="unsafe")
        self._vbox[0] += 1
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        self._check_in_place("clamp_")
        return self._write("clamp_", np.clip(self.data, min, max))

    def _augmented(self, op: str, name: str, other: Operand, out_of_place: Any) -> Tensor:
        """`a += b` and friends: in place, like torch; inside a recorded graph (a non-leaf
        that requires grad, or b requires grad, with grad mode on) they rebind the name out of
        place instead, so that the gradient stays right (`total += loss` keeps the graph)."""
        if is_grad_enabled() and (
            (self.requires_grad and self._ctx is not None)
            or (isinstance(other, Tensor) and other.requires_grad)
        ):
            return out_of_place(self, other)
        return self._in_place(op, name, other)

    def __iadd__(self, other: Operand) -> Tensor:
        return self._augmented("+=", "add", other, Tensor.__add__)

    def __isub__(self, other: Operand) -> Tensor:
        return self._augmented("-=", "sub", other, Tensor.__sub__)

    def __imul__(self, other: Operand) -> Tensor:
        return self._augmented("*=", "mul", other, Tensor.__mul__)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._augmented("/=", "div", other, Tensor.__truediv__)

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
            b = Tensor._wrap(_operand_array(other, dt).astype(dt, copy=False))
        if self.dtype == b.dtype and self.dtype.kind == "f":
            return self, b
        floats = [t.dtype for t in (self, b) if t.dtype.kind == "f"]
        dt = max(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float32)
        return self.to(dt), b.to(dt)

    def __add__(self, other: Operand) -> Tensor:
        return arithmetic.Add.apply(*self._pair(other))

    def __radd__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return arithmetic.Add.apply(b, a)

    def __sub__(self, other: Operand) -> Tensor:
        return arithmetic.Sub.apply(*self._pair(other))

    def __rsub__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return arithmetic.Sub.apply(b, a)

    def __mul__(self, other: Operand) -> Tensor:
        return arithmetic.Mul.apply(*self._pair(other))

    def __rmul__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return arithmetic.Mul.apply(b, a)

    def __truediv__(self, other: Operand) -> Tensor:
        return arithmetic.Div.apply(*self._pair(other))

    def __rtruediv__(self, other: Operand) -> Tensor:
        a, b = self._pair(other)
        return arithmetic.Div.apply(b, a)

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
        b = other.data if isinstance(other, Tensor) else _operand_array(other, self.dtype)
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
        a, b = a._float(), b._float()
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                "matmul: both operands need at least one dimension (use * for scalars)"
            )
        k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match ({k_a} != {k_b})"
            )
        if a.ndim <= 2 and b.ndim <= 2:
            a2 = a if a.ndim == 2 else a.reshape(1, -1)
            b2 = b if b.ndim == 2 else b.reshape(-1, 1)
            out = matmul.MatMul.apply(a2, b2)
            shape = a.shape[:-1] + b.shape[1:]
            return out if out.shape == shape else out.reshape(*shape)
        if b.ndim == 2:  # a stack of rows times one matrix: one big 2-D product
            return matmul.MatMul.apply(a.reshape(-1, k_a), b).reshape(*a.shape[:-1], b.shape[1])
        if b.ndim == 1:
            return a.matmul(b.reshape(-1, 1)).reshape(*a.shape[:-1])
        if a.ndim == 1:
            return a.reshape(1, -1).matmul(b).reshape(*b.shape[:-2], b.shape[-1])
        return matmul.BatchMatMul.apply(a, b)

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
        return activations.Clamp.apply(self._float(), lo=min, hi=max)

    def sqrt(self) -> Tensor:
        return self**0.5

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reductions.Sum.apply(self._float(), axis=self._axes(dim), keepdims=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """The sum divided by the count; over no elements it is NaN, as in torch."""
        axes = self._axes(dim)
        n = self.numel() if axes is None else int(np.prod([self.shape[a] for a in axes]))
        return self.sum(dim, keepdim) * (1.0 / n if n else float("nan"))

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """max() -> the largest value (0-d); max(dim) -> (values, indices), like torch.

        Gradient: max(dim) sends it to the one element its index names (the first of equal
        maxima, as that index is); max() over everything splits it evenly between ties.
        """
        return self._extreme("max", dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """min() -> the smallest value (0-d); min(dim) -> (values, indices). See max()."""
        return self._extreme("min", dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Indices of the largest values (the first of ties) as an int64 Tensor; no gradient.

        Without dim: the index into the flattened tensor."""
        return self._arg_extreme("max", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Indices of the smallest values (the first of ties), as argmax."""
        return self._arg_extreme("min", dim, keepdim)

    def _extreme(self, which: str, dim: int | None, keepdim: bool) -> Any:
        x = self if self.dtype in FLOAT_DTYPES else self.to(np.float64)
        if dim is None:
            if x.numel() == 0:
                raise ValueError(f"{which}(): the tensor is empty, so it has no {which}imum")
            out = reductions.ExtremeAll.apply(x, which=which)
            return out if x.dtype == self.dtype else out.detach().to(self.dtype)
        d = self._axis(dim)
        if self.ndim == 0:
            x = x.reshape(1)
        if x.shape[d] == 0:
            raise ValueError(f"{which}(): dimension {dim} of shape {self.shape} is empty")
        # the backend finds values and indices in one pass; the op routes the gradient
        vals, idx = getattr(backends.current(), which + "_dim")(x.data, d)
        values = reductions.SelectAlongDim.apply(x, values=vals, indices=idx, dim=d)
        indices = Tensor._wrap(idx)
        if not keepdim:
            values = values.squeeze(d)
        if not keepdim:
            indices = Tensor._wrap(np.squeeze(idx, d))
        if self.ndim == 0:
            values, indices = values.reshape(()), Tensor._wrap(indices.data.reshape(()))
        if x.dtype != self.dtype:
            values = values.detach().to(self.dtype)
        return MinMax(values, indices)

    def _arg_extreme(self, which: str, dim: int | None, keepdim: bool) -> Tensor:
        with no_grad():
            if dim is None:
                flat = self.reshape(-1)
                if flat.numel() == 0:
                    raise ValueError(f"arg{which}(): the tensor is empty")
                idx = flat._extreme(which, 0, False).indices
                return Tensor._wrap(idx.data.reshape((1,) * self.ndim if keepdim else ()))
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
        """NumPy/torch indexing: ints, slices, None, ..., and integer or bool index tensors.

        Index tensors (and lists, ranges, arrays) alone, e.g. logp[range(B), y], are a gather:
        one backend kernel forward, a scatter-add backward (repeated indices add up).
        Anything else (slices mixed with index arrays, ...) is NumPy's selection."""
        idx = _index_arg(idx)
        rows = _gather_rows(idx, self.shape)
        if rows is None:
            return movement.Index.apply(self, idx=idx)
        flat, out_shape, k = rows
        n_rows = math.prod(self.shape[:k])
        table = self.reshape(n_rows, math.prod(self.shape[k:]))
        return movement.GatherRows.apply(table, rows=flat).reshape(*out_shape)


# ufunc -> (Tensor's method for Tensor OP x, Tensor's method for x OP Tensor)
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


def _operand_array(x: Any, dtype: np.dtype) -> np.ndarray:
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


def _scaled(other: Operand, alpha: float) -> Any:
    return other * alpha if isinstance(other, Tensor) else np.asarray(other) * alpha


def _index_arg(idx: Any) -> Any:
    """Tensors, lists and ranges in an index become arrays NumPy indexes with."""

    def one(i: Any) -> Any:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, range):
            i = np.arange(i.start, i.stop, i.step)
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            if i.size or i.dtype.kind != "f":
                raise IndexError(
                    f"tensors used as indices must be integer or bool, got dtype {i.dtype}"
                )
            i = i.astype(np.int64)  # [] is float64 to NumPy
        return i

    return tuple(one(i) for i in idx) if isinstance(idx, tuple) else one(idx)


def _gather_rows(idx: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple, int] | None:
    """For an index made only of integer arrays (and ints, with at least one array) over the
    first k dims, or one bool mask over them: (flat row numbers, output shape, k); else None."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    if not any(isinstance(p, np.ndarray) for p in parts):
        return None
    if len(parts) == 1 and parts[0].dtype == np.bool_:
        mask = parts[0]
        if mask.shape != shape[: mask.ndim]:
            raise IndexError(f"a mask of shape {mask.shape} does not fit a tensor of {shape}")
        parts = np.nonzero(mask)
    if len(parts) > len(shape):
        raise IndexError(f"too many indices ({len(parts)}) for a tensor of shape {shape}")
    arrays = []
    for d, p in enumerate(parts):
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            p = np.asarray(p)
        if not isinstance(p, np.ndarray) or p.dtype.kind not in "iu":
            return None  # slices, None, Ellipsis or a mask among them: NumPy's selection
        p = p.astype(np.int64, copy=False)
        n = shape[d]
        if p.size and (p.min() < -n or p.max() >= n):
            bad = p[(p < -n) | (p >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for dim {d} with size {n}")
        arrays.append(np.where(p < 0, p + n, p))
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise IndexError(
            f"index arrays of shapes {[a.shape for a in arrays]} do not broadcast together"
        ) from None
    k = len(arrays)
    flat = np.ravel_multi_index(arrays, shape[:k]) if arrays[0].size else arrays[0]
    return flat.reshape(-1).astype(np.int64, copy=False), arrays[0].shape + shape[k:], k


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _common_dtype(ts: list[Tensor]) -> list[Tensor]:
    dt = np.result_type(*[t.dtype for t in ts])
    return [t.to(dt) if t.dtype != dt else t for t in ts]


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (torch.cat)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    ts = _common_dtype(ts)
    d = ts[0]._axes(dim)[0]  # type: ignore[index]
    for t in ts[1:]:
        if (
            t.ndim != ts[0].ndim
            or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]
        ):
            raise ValueError(f"cat: shapes {[t.shape for t in ts]} differ outside dimension {dim}")
    return movement.Cat.apply(*ts, dim=d)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension (torch.stack)."""
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all tensors need one shape, got {[t.shape for t in ts]}")
    n = ts[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dim {dim} is out of range for {n} dimensions")
    return movement.Stack.apply(*_common_dtype(ts), dim=dim % n)
