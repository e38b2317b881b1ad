"""The backward engine: the chain rule over a whole graph, as in micrograd's Value.backward.

    order = every tensor behind the output, each after its inputs (a topological order)
    grad[output] = the seed (1 for a scalar loss)
    for t in reversed(order):               from the output back to the leaves
        a leaf keeps grad[t] in t.grad        (gradients add up over backward calls)
        grad[input] += backward of t's op     (one Function.backward per op: the local rule)

Everything else here keeps that loop honest: an op whose saved inputs were changed in place
since the forward pass refuses to run (its gradient would use the new values), and an op
frees what it saved once used, unless the caller asks to keep the graph (retain_graph).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..backends import recording
from .function import FREED

if TYPE_CHECKING:
    from ..tensors.tensor import Tensor


def backward(root: Tensor, seed: np.ndarray, retain_graph: bool = False) -> None:
    """Add d(root)/d(leaf) to `.grad` of every leaf behind `root`; `seed` is d(final)/d(root)."""
    grads: dict[Tensor, np.ndarray] = {root: seed}  # tensors hash by identity
    adopted: set[int] = set()  # ids of arrays already taken as some leaf's .grad
    for t in reversed(topo_order(root)):
        g = grads.pop(t, None)
        if g is None:
            continue
        if type(g) is not np.ndarray:  # NumPy turns 0-d results into scalars
            g = np.asarray(g, dtype=t.data.dtype)
        ctx = t._ctx
        if ctx is None or t._retain:  # a leaf (or a tensor asked to keep its grad)
            accumulate(t, g, adopted)
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
        parent_grads = ctx.backward(g)  # the op's local rule: one gradient per input
        if arrays and not retain_graph:
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
            if prev is None:
                grads[p] = pg
            elif _same_float_arrays(prev, pg):
                grads[p] = ctx.be.add(prev, pg)  # a tensor used twice: the sum, on a kernel
            else:
                recording.refuse("a gradient sum of mixed dtypes or shapes runs in NumPy")
                grads[p] = prev + pg


def _same_float_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a + b can run on the backend's add kernel: two float32 (or two float64)
    arrays of one shape."""
    return (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.dtype == b.dtype
        and a.dtype.char in "fd"
        and a.shape == b.shape
    )


def accumulate(t: Tensor, g: np.ndarray, adopted: set[int]) -> None:
    """t.grad += g, in place as PyTorch accumulates; the first time, g itself becomes t.grad
    without a copy when nothing else can see the array."""
    grad = t._grad
    rec = recording.recorder
    if rec is not None:  # a step being captured: its replays must set this .grad again
        rec.grad_set(t)
    if grad is None:
        f = g.flags
        if f.owndata and f.writeable and f.c_contiguous and id(g) not in adopted:
            adopted.add(id(g))
            arr = g if g.dtype == t.data.dtype else g.astype(t.data.dtype)
        else:
            recording.refuse("a gradient is copied into .grad in NumPy")
            arr = np.array(g, dtype=t.data.dtype)
        t._grad = t._wrap(arr)
    elif grad.data.flags.writeable and grad.data.dtype == t.data.dtype:
        recording.refuse("gradients add into .grad in NumPy (no zero_grad() in the step)")
        grad.data += g
        grad._vbox[0] += 1
    else:
        recording.refuse("gradients add into .grad in NumPy (no zero_grad() in the step)")
        t._grad = t._wrap((grad.data + g).astype(t.data.dtype, copy=False))


def topo_order(root: Tensor) -> list[Tensor]:
    """Every tensor in the graph behind root that needs a gradient, each after its inputs.

    An iterative depth-first search (an explicit stack), so deep graphs cannot hit Python's
    recursion limit."""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
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
