"""`Function`: one differentiable op, its forward and backward side by side.

An op is a subclass with two methods:
    forward(self, *arrays, **options) -> array       computes the output from input arrays
    backward(self, grad) -> tuple of arrays or None   one gradient per input (None: not needed)
`Op.apply(*tensors, **options)` runs forward, wraps the result in a Tensor and, when a gradient
will be needed, records the Function in the result's `_ctx` so that the backward engine
(autograd/engine.py) can walk the graph. Inside forward/backward, `self.be` is the backend that runs the arrays
(NumPy or C); autograd never imports a backend module itself.

Saved arrays and in-place changes (as in PyTorch): apply() notes each input's version
counter. Before an op's backward, the engine asks `stale_input` whether an input or the
output whose array the op saved (in `saved`) was changed in place since, e.g. by an optimizer
step between forward and backward, and raises instead of giving gradients of stale values.
After its backward, an op that saved arrays drops them (`saved` becomes FREED) unless
retain_graph=True. An op whose output may share its input's memory (reshape, transpose, basic
slicing) sets `may_view`: such an output shares the input's version counter too.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backends
from .grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from ..tensors.tensor import Tensor


FREED = object()  # what `saved` becomes once backward has used and dropped it


class Function:
    __slots__ = ("be", "parents", "needs_grad", "saved", "versions")
    may_view = False
    # What the autograd explorer (viz/) says about an op, kept beside the op so that a new op
    # is written in one place. `formula`: d(output)/d(input i) for people, one per input, with
    # {a}, {b} the inputs' names and {y} the output's; the numbers come from backward itself.
    # `elementwise`: output element k depends only on element k of each same-size input, so
    # the chain rule is a product element by element.
    formula: tuple[str, ...] = ()
    elementwise = False

    be: ModuleType
    parents: tuple[Tensor, ...]
    needs_grad: tuple[bool, ...]
    saved: Any
    versions: tuple[int, ...]

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *parents: Tensor, **kwargs: Any) -> Tensor:
        fn = cls()
        fn.be = backends.current()
        fn.needs_grad = needs = tuple([p.requires_grad for p in parents])
        fn.saved = None
        data = fn.forward(*[p.data for p in parents], **kwargs)
        if type(data) is not np.ndarray:  # NumPy turns 0-d results into scalars
            data = np.asarray(data)
        out = parents[0]._wrap(data)  # a new Tensor (no import: tensors sit above this file)
        if cls.may_view and np.may_share_memory(data, parents[0].data):
            out._vbox = parents[0]._vbox  # a view: one version counter for both
        if True in needs and is_grad_enabled():
            fn.parents = parents
            fn.versions = tuple([p._vbox[0] for p in parents])
            out.requires_grad = True
            out._ctx = fn
        return out

    def saved_arrays(self) -> list[np.ndarray]:
        """The arrays among `saved` (an array, or a tuple that holds some)."""
        saved = self.saved
        if type(saved) is np.ndarray:
            return [saved]
        if type(saved) is tuple:
            return [x for x in saved if type(x) is np.ndarray]
        return []

    def stale_input(self, out: Tensor, arrays: list[np.ndarray]) -> Tensor | None:
        """An input (or the output) whose saved array was changed in place since forward."""
        for p, v in zip(self.parents, self.versions):
            if p._vbox[0] != v and any(a is p.data for a in arrays):
                return p
        if out._vbox[0] != 0 and any(a is out.data for a in arrays):
            return out
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


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
    if axes and len(axes) == lead:  # only the leading axes (a bias): the sum has `shape`
        return be.sum(grad, axis=axes)  # an array of its own, which .grad can adopt as is
    if axes:
        grad = be.sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)
