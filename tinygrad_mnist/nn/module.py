"""`Module`: the base of every layer: finds its parameters, saves and loads them.

Like torch.nn.Module: a module's parameters are the Parameters (and other Tensors with
requires_grad) among its attributes, and those of the modules among its attributes (lists of
modules included), in the order they were set. Names are dotted paths, e.g. "0.weight" in a
Sequential. Buffers (register_buffer: BatchNorm's running statistics) are tensors that are
saved and loaded with the parameters but never trained.

The package's layers take Tensors: calling one on a NumPy array or a list is a TypeError
that says to wrap it, `model(Tensor(x))`, as torch refuses a NumPy array there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..devices import check_device, is_device
from ..dtypes import resolve_dtype
from ..tensors.tensor import Tensor
from .parameter import Parameter


class LoadResult(NamedTuple):
    """What load_state_dict returns, as torch's: the names it did not find, or did not know."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    training: bool = True

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], (np.ndarray, list, tuple)) and _ours(self):
            raise TypeError(
                f"{type(self).__name__} takes a Tensor, not a {_type_name(args[0])}: wrap it "
                "first, model(Tensor(x)) (as torch.from_numpy(x) in PyTorch)"
            )
        return self.forward(*args, **kwargs)

    def children(self) -> Iterator[Module]:
        """The modules directly inside this one (torch's children())."""
        for _, child in self.named_children():
            yield child

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{name}.{i}" if name != "_modules" else str(i), v

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        buffers = vars(self).get("_buffers", ())
        for name, value in vars(self).items():
            if (
                isinstance(value, Tensor)
                and name not in buffers
                and (value.requires_grad or isinstance(value, Parameter))
            ):
                yield prefix + name, value
        if recurse:
            for name, child in self.named_children():
                yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self, recurse: bool = True) -> list[Tensor]:
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor kept with the module (state_dict, to()) that is not a parameter."""
        if "_buffers" not in vars(self):
            self._buffers: list[str] = []
        if name not in self._buffers:
            self._buffers.append(name)
        setattr(self, name, tensor)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for name in vars(self).get("_buffers", ()):
            value = getattr(self, name)
            if isinstance(value, Tensor):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    def add_module(self, name: str, module: Module | None) -> None:
        setattr(self, name, module)

    register_module = add_module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first (this one named prefix)."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def apply(self, fn: Any) -> Module:
        """fn(m) for every module inside, then for this one (e.g. to initialise weights)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **_: Any) -> Module:
        """to(device) and/or to(dtype), in place, as torch's: parameters and float buffers
        are converted to a float dtype; any device but the CPU raises."""
        for a in args:
            if is_device(a):
                device = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        check_device(device)
        if dtype is not None:
            dt = resolve_dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Module.to: only float dtypes are allowed, got {dt}")
            for t in [*self.parameters(), *self.buffers()]:
                if t.dtype.kind == "f" and t.dtype != dt:
                    t.data = t.data.astype(dt)
                    t._vbox[0] += 1
                    t._grad = None
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        check_device("cuda" if device is None else device)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's (and buffer's) array, by name."""
        out = {name: p.data.copy() for name, p in self.named_parameters()}
        out.update((name, b.data.copy()) for name, b in self.named_buffers())
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> Any:
        """Copy arrays (or tensors) into the parameters and buffers; every name, shape and
        dtype must match exactly (strict=False: names may be missing or extra).

        All checks run before any parameter changes, so a bad state leaves the model as it was.
        Returns (missing_keys, unexpected_keys), as torch does.
        """
        params = dict(self.named_parameters())
        params.update(self.named_buffers())
        missing = sorted(set(params) - set(state))
        extra = sorted(set(state) - set(params))
        if not strict:
            params = {n: p for n, p in params.items() if n in state}
        if strict and (missing or extra):
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
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise ValueError(f"load_state_dict: {name} contains NaN or Inf")
        for name, p in params.items():
            p.data[...] = np.asarray(state[name])
            p._vbox[0] += 1  # an in-place change: a graph built before it can no longer backward
        return LoadResult(missing, extra)

    def __repr__(self) -> str:
        kids = [f"  ({n}): {repr(c)}".replace("\n", "\n  ") for n, c in self.named_children()]
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
