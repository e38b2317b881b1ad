"""`Module`: the base of every layer: finds its parameters, saves and loads them.

Like torch.nn.Module: a module's parameters are the Tensors with requires_grad among its
attributes, and those of the modules among its attributes (lists of modules included), in
the order they were set. Names are dotted paths, e.g. "0.weight" in a Sequential.

The package's layers take Tensors: calling one on a NumPy array or a list is a TypeError
that says to wrap it, `model(Tensor(x))`, as torch refuses a NumPy array there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..tensors.tensor import Tensor


class Module:
    training: bool = True

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any) -> Any:
        if args and isinstance(args[0], (np.ndarray, list, tuple)) and _ours(self):
            raise TypeError(
                f"{type(self).__name__} takes a Tensor, not a {_type_name(args[0])}: wrap it "
                "first, model(Tensor(x)) (as torch.from_numpy(x) in PyTorch)"
            )
        return self.forward(*args)

    def children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{name}.{i}" if name != "_modules" else str(i), v

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's array, by name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy arrays into the parameters; every name, shape and dtype must match exactly.

        All checks run before any parameter changes, so a bad state leaves the model as it was.
        """
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        extra = sorted(set(state) - set(params))
        if missing or extra:
            raise ValueError(
                f"load_state_dict: parameter names differ: missing {missing}, unexpected {extra}"
            )
        for name, p in params.items():
            arr = np.asarray(state[name])
            if arr.shape != p.shape:
                raise ValueError(
                    f"load_state_dict: {name} has shape {arr.shape}, the model expects {p.shape}"
                )
            if arr.dtype != p.dtype:
                raise ValueError(
                    f"load_state_dict: {name} has dtype {arr.dtype}, the model expects {p.dtype}"
                )
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"load_state_dict: {name} contains NaN or Inf")
        for name, p in params.items():
            p.data[...] = state[name]
            p._vbox[0] += 1  # an in-place change: a graph built before it can no longer backward

    def __repr__(self) -> str:
        kids = [f"  ({n}): {repr(c)}".replace("\n", "\n  ") for n, c in self.children()]
        extra = self.extra_repr()
        if not kids:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}({extra}\n" + "\n".join(kids) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _ours(module: Module) -> bool:
    """Whether module's forward is one of this package's layers (they take Tensors). A
    forward of one's own may take anything, so it is left alone."""
    return type(module).forward.__module__.startswith(__package__ or "tinygrad_mnist")


def _type_name(x: object) -> str:
    kind = type(x)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
