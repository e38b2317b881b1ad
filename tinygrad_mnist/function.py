"""`Function`: one differentiable op, its forward and backward side by side.

An op is a subclass with two methods:
    forward(self, *arrays, **options) -> array       computes the output from input arrays
    backward(self, grad) -> tuple of arrays or None   one gradient per input (None: not needed)
`Op.apply(*tensors, **options)` runs forward, wraps the result in a Tensor and, when a gradient
will be needed, records the Function in the result's `_ctx` so that `Tensor.backward` can
walk the graph. Inside forward/backward, `self.be` is the backend that runs the arrays
(NumPy or C); autograd never imports a backend module itself.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backends
from .grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from .tensor import Tensor


class Function:
    __slots__ = ("be", "parents", "needs_grad", "saved")

    be: ModuleType
    parents: tuple[Tensor, ...]
    needs_grad: tuple[bool, ...]
    saved: Any

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *parents: Tensor, **kwargs: Any) -> Tensor:
        fn = cls()
        fn.be = backends.current()
        fn.needs_grad = needs = tuple([p.requires_grad for p in parents])
        data = fn.forward(*[p.data for p in parents], **kwargs)
        if type(data) is not np.ndarray:  # NumPy turns 0-d results into scalars
            data = np.asarray(data)
        out = _wrap(data)
        if True in needs and is_grad_enabled():
            fn.parents = parents
            out.requires_grad = True
            out._ctx = fn
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _wrap(data: np.ndarray) -> Tensor:
    """Tensor._wrap; bound on first use, because tensor.py imports this module."""
    global _wrap
    from .tensor import Tensor

    _wrap = Tensor._wrap
    return _wrap(data)


def unbroadcast(be: ModuleType, grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`: the backward of NumPy broadcasting.

    A broadcast input was (virtually) copied along the leading axes it lacked and along the
    axes where it had size 1, so its gradient is the sum of the output gradient over those.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = be.sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)
