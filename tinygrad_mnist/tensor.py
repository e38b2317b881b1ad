"""`Tensor`: an n-d array that remembers how it was computed, so it can give gradients.

A Tensor wraps a NumPy array (`.data`). Each op is a `Function` (ops/): applying one makes a
new Tensor whose `_ctx` remembers the Function and its inputs. `backward()` walks that graph
from the output back to the leaves, in reverse topological order, applying the chain rule.
The arrays themselves are computed by the current backend (NumPy or C), chosen in backends/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from .function import Function
from .grad_mode import no_grad
from .ops import activations, arithmetic, matmul, movement, reductions, softmax

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DTYPES = FLOAT_DTYPES + (np.dtype(np.int64),)
Operand = Union["Tensor", float, int, np.ndarray]

__all__ = ["Tensor", "cat", "no_grad"]


def _resolve_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"Tensor: unknown dtype {dtype!r}; use float32, float64 or int64") from e
    if dt not in DTYPES:
        raise TypeError(f"Tensor: dtype {dt} is not supported; use float32, float64 or int64")
    return dt


class Tensor:
    """Tensor(data, requires_grad=False, dtype=None): float32 unless dtype says otherwise.

    `data` is anything np.asarray takes (or a Tensor). An array of the requested dtype is not
    copied: the Tensor shares its memory, like torch.from_numpy. int64 Tensors hold labels and
    cannot require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retain", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__, not NumPy

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        dt = np.dtype(np.float32) if dtype is None else _resolve_dtype(dtype)
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: cannot make a tensor from data of dtype {arr.dtype}")
        if dt.kind == "i" and arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
            raise ValueError("Tensor: int64 tensor from data with fractional values")
        self.data: np.ndarray = arr.astype(dt, copy=False)
        if requires_grad and dt not in FLOAT_DTYPES:
            raise TypeError("Tensor: only float tensors can require gradients")
        self.requires_grad: bool = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._ctx: Function | None = None
        self._retain = False

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A Tensor around an op's output array, skipping the constructor's checks."""
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx, t._retain = data, None, False, None, False
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

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(
                f"item(): tensor of shape {self.shape} has {self.size} elements, not 1"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return Tensor._wrap(self.data)

    def zero_grad(self) -> None:
        self.grad = None

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

    # ------------------------------------------------------------------ backward
    def backward(self, grad: Any = None) -> None:
        """Fill `.grad` of every leaf this tensor depends on with d(self)/d(leaf).

        `grad` is d(final)/d(self); it may be left out when self has one element (it is 1).
        Gradients add up over calls, as in PyTorch: call zero_grad between steps.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicit only for one-element outputs, "
                    f"not shape {self.shape}; pass grad="
                )
            g = np.ones(self.shape, dtype=self.dtype)
        else:
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if g.shape != self.shape:
                raise ValueError(f"backward(): grad shape {g.shape} != tensor shape {self.shape}")

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
            for p, pg in zip(ctx.parents, ctx.backward(g)):
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
        if self.grad is None:
            f = g.flags
            if f.owndata and f.writeable and f.c_contiguous and id(g) not in adopted:
                adopted.add(id(g))
                self.grad = g if g.dtype == self.data.dtype else g.astype(self.data.dtype)
            else:
                self.grad = np.array(g, dtype=self.data.dtype)
        else:
            self.grad += g

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
                        push((p, False))
        return order

    # ------------------------------------------------------------------ arithmetic
    def _pair(self, other: Operand) -> tuple[Tensor, Tensor]:
        """Both operands as Tensors of one float dtype.

        Python numbers and arrays take this tensor's dtype (so `x * 2.0` and `x @ ndarray` stay
        float32 for a float32 x); two tensors meet at the wider float dtype.
        """
        if isinstance(other, Tensor):
            b = other
        else:
            arr = np.asarray(other)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"unsupported operand type {type(other).__name__} for a Tensor")
            dt = self.dtype if self.dtype.kind == "f" else np.dtype(np.float32)
            b = Tensor._wrap(arr.astype(dt, copy=False))
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
        return arithmetic.Neg.apply(self)

    def __pow__(self, p: Operand) -> Tensor:
        if isinstance(p, (int, float, np.number)) and not isinstance(p, bool):
            return arithmetic.Pow.apply(self._float(), p=float(p))
        # a tensor exponent: a^b = e^(b log a), defined for a > 0
        a, b = self._pair(p)
        return (b * a.log()).exp()

    def __rpow__(self, base: Operand) -> Tensor:
        a, b = self._pair(base)
        return (a * b.log()).exp()

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
        return activations.LeakyReLU.apply(self._float(), slope=float(negative_slope))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return activations.Clamp.apply(self._float(), lo=min, hi=max)

    def sqrt(self) -> Tensor:
        return self**0.5

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reductions.Sum.apply(self._float(), axis=self._axes(dim), keepdims=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        axes = self._axes(dim)
        n = self.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        if n == 0:
            raise ValueError(f"mean(): no elements to average over in shape {self.shape}")
        return self.sum(dim, keepdim) * (1.0 / n)

    def argmax(self, dim: int | None = None) -> Tensor:
        """Indices of the largest values (no gradient), as an int64 Tensor."""
        return Tensor(np.argmax(self.data, axis=dim), dtype=np.int64)

    def _axes(self, dim: int | Sequence[int] | None) -> tuple[int, ...] | None:
        if dim is None:
            return None
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        out = []
        for d in dims:
            if not -self.ndim <= d < max(self.ndim, 1):
                raise IndexError(f"dim {d} is out of range for a tensor of shape {self.shape}")
            out.append(int(d) % max(self.ndim, 1))
        if len(set(out)) != len(out):
            raise ValueError(f"dim {dim} repeats a dimension")
        return tuple(out)

    # ------------------------------------------------------------------ softmax
    def softmax(self, dim: int = -1) -> Tensor:
        self._axes(dim)
        return softmax.Softmax.apply(self._float(), dim=dim)

    def log_softmax(self, dim: int = -1) -> Tensor:
        self._axes(dim)
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

    def transpose(self, dim0: int = 0, dim1: int = 1) -> Tensor:
        (d0,), (d1,) = self._axes(dim0), self._axes(dim1)  # type: ignore[misc]
        return movement.Transpose.apply(self, dim0=d0, dim1=d1)

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
        if sorted(d % self.ndim for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of {self.ndim} dimensions")
        out, order = self, list(range(self.ndim))
        for i, d in enumerate(d % self.ndim for d in dims):  # as a sequence of swaps
            j = order.index(d)
            if j != i:
                out = out.transpose(i, j)
                order[i], order[j] = order[j], order[i]
        return out

    def __getitem__(self, idx: Any) -> Tensor:
        if isinstance(idx, Tensor):
            idx = idx.data
        return movement.Index.apply(self, idx=idx)


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (torch.cat)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    dt = np.result_type(*[t.dtype for t in ts])
    ts = [t.to(dt) if t.dtype != dt else t for t in ts]
    d = ts[0]._axes(dim)[0]  # type: ignore[index]
    for t in ts[1:]:
        if (
            t.ndim != ts[0].ndim
            or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]
        ):
            raise ValueError(f"cat: shapes {[t.shape for t in ts]} differ outside dimension {dim}")
    return movement.Cat.apply(*ts, dim=d)
