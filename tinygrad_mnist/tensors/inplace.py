"""In-place updates of a Tensor (`add_`, `x -= y`, `zero_`, ...) and the version rule.

As in PyTorch, an in-place op changes `data` itself (every view sees it), keeps requires_grad,
adds 1 to the tensor's version counter and returns the tensor. Autograd relies on the counter:
an op that saved a tensor for backward notes its version, and backward refuses to use the
tensor if the version moved since (autograd/engine.py). A tensor that requires grad may be
changed only under no_grad(); otherwise the change would have to be recorded in the graph.

`InPlaceOps` is a part of the Tensor class (tensors/tensor.py), kept in its own file.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backends
from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import FLOAT_DTYPES, Operand, operand_array

if TYPE_CHECKING:
    from .tensor import Tensor


def _requires_grad(x: Any) -> bool:
    """True for a tensor that requires grad (numbers and arrays never do)."""
    return bool(getattr(x, "requires_grad", False))


def _scaled(other: Operand, alpha: float) -> Any:
    return other * alpha if hasattr(other, "requires_grad") else np.asarray(other) * alpha


class InPlaceOps:
    """The in-place methods of Tensor. They use only Tensor's `data`, `dtype`, `shape`,
    `requires_grad`, `_ctx` and `_vbox` (the version counter, shared with views)."""

    __slots__ = ()

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
        if _requires_grad(other) and is_grad_enabled():
            raise RuntimeError(
                f"{op}: the operand requires grad, and an in-place change is not recorded in "
                "the graph; write it out of place (x = x + y) or use no_grad()"
            )
        b = operand_array(other, self.dtype)  # a Tensor gives its data (np.asarray)
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
        return self._write("fill_", operand_array(value, self.dtype))

    def copy_(self, src: Operand) -> Tensor:
        """Copy src's values into this tensor (src broadcasts to this shape; dtype converts)."""
        self._check_in_place("copy_")
        arr = operand_array(src, self.dtype)
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
            (self.requires_grad and self._ctx is not None) or _requires_grad(other)
        ):
            return out_of_place(self, other)
        return self._in_place(op, name, other)

    def __iadd__(self, other: Operand) -> Tensor:
        return self._augmented("+=", "add", other, operator.add)

    def __isub__(self, other: Operand) -> Tensor:
        return self._augmented("-=", "sub", other, operator.sub)

    def __imul__(self, other: Operand) -> Tensor:
        return self._augmented("*=", "mul", other, operator.mul)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._augmented("/=", "div", other, operator.truediv)
