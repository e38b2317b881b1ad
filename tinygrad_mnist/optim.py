"""Optimizers and learning-rate schedules. Updates happen in place on each parameter's array.

The update rules follow PyTorch (see numpy_backend.sgd_step / adam_step for the math). By
default (foreach=True, as PyTorch's foreach optimizers) one backend call updates every
parameter of a group: on the C backend that is one C call for the whole model
(sgd_step_many / adam_step_many), where one call per parameter would cost a few microseconds
of Python each. foreach=False runs the plain loop, one sgd_step / adam_step per parameter;
both give the same numbers, bit for bit. Parameters of mixed dtypes in one group take the
plain loop, and so do groups with a parameter that is not C-contiguous (a transposed or
strided view of the caller's array): it is updated in its own memory, through a contiguous
copy written back, so that it stays a view of that array and tied weights stay tied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import backends
from .backends import recording
from .tensors.tensor import Tensor


class Optimizer:
    """The base of SGD and Adam, shaped like torch.optim.Optimizer.

    `params` is an iterable of Tensors, or of dicts {"params": [...], "lr": ..., ...} (one
    parameter group each; a key left out takes the constructor's value). `param_groups` is
    that list of dicts: set group["lr"] to change a learning rate, as in PyTorch. `lr` reads
    the first group's rate and, when set, sets every group's.

    step() updates each parameter's array in place under no_grad and bumps its version
    counter, so a backward() through a graph built before the step raises (as in PyTorch)
    instead of giving gradients of the old weights.
    """

    def __init__(
        self, params: Iterable[Any], defaults: dict[str, Any], foreach: bool = True
    ) -> None:
        self.foreach = bool(foreach)  # one backend call per group (True) or per parameter
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = items if all(isinstance(g, dict) for g in items) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        self.params: list[Tensor] = []  # every parameter, group after group
        for group in groups:
            if "params" not in group:
                raise ValueError(f"{type(self).__name__}: a parameter group needs 'params'")
            ps = group["params"]
            ps = [ps] if isinstance(ps, Tensor) else list(ps)
            for p in ps:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(
                        f"{type(self).__name__}: parameters must be Tensors with requires_grad"
                    )
                if any(p is q for q in self.params):
                    raise ValueError(f"{type(self).__name__}: a parameter appears twice")
                self._check_param(len(self.params), p)
                self.params.append(p)
            full = {**defaults, **{k: v for k, v in group.items() if k != "params"}}
            self._check_group(full)
            self.param_groups.append({"params": ps, **full})

    def _check_param(self, i: int, p: Tensor) -> None:
        """A parameter is updated in place, in its own memory and layout (as in torch, a
        transposed or strided view stays a view of the caller's array, and tied weights stay
        tied): so it must be a leaf, and its array writeable."""
        name = type(self).__name__
        if not p.is_leaf:
            raise ValueError(
                f"{name}: parameter {i} is a non-leaf tensor (made by {type(p._ctx).__name__}), "
                "and an optimizer can't optimize a non-leaf Tensor; pass the leaf tensors you "
                "created (e.g. model.parameters())"
            )
        if not p.data.flags.writeable:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) is read-only (e.g. an expand() view "
                "or a read-only NumPy array), and the optimizer updates parameters in place; "
                "give it a writeable copy first: p.data = p.data.copy()"
            )

    def _check_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        if not isinstance(lr, (int, float)) or not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr}")
        group["lr"] = float(lr)

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = float(value)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient (set_to_none=False zeroes the .grad Tensors instead)."""
        for p in self.params:
            if set_to_none or p._grad is None:
                p._grad = None
            else:
                p._grad.data[...] = 0

    def _groups_with_grads(self) -> list[tuple[dict[str, Any], list[int], list[Tensor]]]:
        """For each parameter group that has parameters with a gradient: the group, their
        indices among all parameters, and the parameters. Those without a gradient are
        skipped, as in PyTorch."""
        out = []
        first = 0
        for group in self.param_groups:
            params = group["params"]
            js = [j for j, p in enumerate(params) if p._grad is not None]
            if js:
                out.append((group, [first + j for j in js], [params[j] for j in js]))
            first += len(params)
        return out

    def step(self) -> None:
        """One update of every parameter that has a gradient, group by group: each group's
        rule (its learning rate and other scalars, `_rule`) applied in place by the backend
        (`_apply`). Then each updated parameter's version is bumped, so that a graph built
        before the step can no longer run backward.

        A captured step (capture.py) replays the kernels of `_apply` from C; the rest of this
        method, the Python half, is what it runs itself: `_advance`, `_rule` (its results are
        the live scalars of the replay) and the version bumps."""
        be = backends.current()
        rec = recording.recorder
        self._advance(1)
        for group, idx, ps in self._groups_with_grads():
            rule = self._rule(group)
            first_call = rec.mark() if rec is not None else 0
            self._apply(be, idx, ps, rule)
            for p in ps:
                p._vbox[0] += 1
            if rec is not None:  # the calls just made take this group's rule as live scalars
                rec.live_scalars(self, group, ps, first_call, len(rule))

    def _advance(self, steps: int) -> None:
        """Count `steps` more optimizer steps (Adam's t; SGD counts none)."""

    def _state_arrays(self) -> list[np.ndarray | None]:
        """The arrays its updates write besides the parameters (momentum buffers, moments).
        A captured step's plan writes these very arrays, so it checks they are still these."""
        return []

    def _needs_state(self, group: dict[str, Any]) -> bool:
        """Whether this group's kernel call takes state arrays (SGD: only with momentum)."""
        return True

    def _rule(self, group: dict[str, Any]) -> tuple[Any, ...]:
        """The scalars of this group's update, in the order the kernels take them."""
        raise NotImplementedError

    def _apply(self, be: Any, idx: list[int], ps: list[Tensor], rule: tuple[Any, ...]) -> None:
        """Update the parameters ps (indices idx among all) in place by the rule."""
        raise NotImplementedError

    def _one_call(self, ps: list[Tensor]) -> bool:
        """Whether these parameters are updated by one backend call (foreach, one dtype, all
        C-contiguous: the kernels write C-contiguous arrays in place)."""
        dtype = ps[0].data.dtype
        return self.foreach and all(p.data.dtype is dtype and p.data.flags.c_contiguous for p in ps)

    @staticmethod
    def _update(p: Tensor, step: Callable[..., None], *args: Any) -> None:
        """Run step(array, *args), a backend's in-place update, on p's array. A parameter
        that is a view in another layout (W.T, a strided slice) is updated through a
        C-contiguous copy that is then written back into the view, one parameter at a time,
        so that parameters sharing memory see each other's updates in order, as in torch."""
        if p.data.flags.c_contiguous:
            step(p.data, *args)
        else:
            work = np.ascontiguousarray(p.data)
            step(work, *args)
            p.data[...] = work

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state arrays (for checkpoints)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _load_buffers(self, name: str, arrays: list[np.ndarray | None]) -> list[np.ndarray | None]:
        if len(arrays) != len(self.params):
            raise ValueError(
                f"{name}: {len(arrays)} state arrays for {len(self.params)} parameters"
            )
        out = []
        for i, (a, p) in enumerate(zip(arrays, self.params)):
            if a is not None and (a.shape != p.shape or a.dtype != p.dtype):
                raise ValueError(
                    f"{name}[{i}]: shape {a.shape} dtype {a.dtype}, parameter has {p.shape} {p.dtype}"
                )
            out.append(None if a is None else np.array(a, dtype=p.dtype, order="C"))
        return out


def _zeros(p: Tensor) -> np.ndarray:
    """Optimizer state for p: zeros of its shape and dtype, C-contiguous whatever p's layout
    (zeros_like would copy a transposed p's layout, which the C kernels cannot update)."""
    return np.zeros(p.shape, dtype=p.dtype)


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, weight_decay=0, nesterov=False, foreach=True), as
    torch.optim.SGD. foreach=False updates one parameter per backend call (same numbers)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        foreach: bool = True,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        super().__init__(params, {**defaults, "nesterov": nesterov}, foreach)
        self.buffers: list[np.ndarray | None] = []
        for group in self.param_groups:
            self.buffers += [_zeros(p) if group["momentum"] else None for p in group["params"]]

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if group["momentum"] < 0 or group["weight_decay"] < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0")

    @property
    def momentum(self) -> float:
        return self.param_groups[0]["momentum"]

    @property
    def weight_decay(self) -> float:
        return self.param_groups[0]["weight_decay"]

    @property
    def nesterov(self) -> bool:
        return self.param_groups[0]["nesterov"]

    def _rule(self, group: dict[str, Any]) -> tuple[Any, ...]:
        return (group["lr"], group["momentum"], group["weight_decay"], group["nesterov"])

    def _apply(self, be: Any, idx: list[int], ps: list[Tensor], rule: tuple[Any, ...]) -> None:
        bufs = [self._buffer(i) for i in idx] if rule[1] else None
        if self._one_call(ps):
            be.sgd_step_many([p.data for p in ps], [p._grad.data for p in ps], bufs, *rule)
        else:  # the plain loop: one update per parameter
            for j, p in enumerate(ps):
                buf = None if bufs is None else bufs[j]
                self._update(p, be.sgd_step, p._grad.data, buf, *rule)

    def _state_arrays(self) -> list[np.ndarray | None]:
        return list(self.buffers)

    def _needs_state(self, group: dict[str, Any]) -> bool:
        return bool(group["momentum"])

    def _buffer(self, i: int) -> np.ndarray:
        """Parameter i's momentum buffer (made, as zeros, if momentum was switched on later)."""
        buf = self.buffers[i]
        if buf is None:
            buf = self.buffers[i] = _zeros(self.params[i])
        return buf

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "buffers": [b for b in self.buffers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffers = self._load_buffers("SGD momentum buffers", list(state["buffers"]))
        self.lr = float(state["lr"])


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=True), as
    torch.optim.Adam. foreach=False updates one parameter per backend call (same numbers)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        foreach: bool = True,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults, foreach)
        self.m = [_zeros(p) for p in self.params]
        self.v = [_zeros(p) for p in self.params]
        self.t = 0

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas, eps = group["betas"], group["eps"]
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or eps <= 0:
            raise ValueError(f"Adam: need 0 <= betas < 1 and eps > 0, got {betas}, {eps}")

    @property
    def betas(self) -> tuple[float, float]:
        return self.param_groups[0]["betas"]

    @property
    def eps(self) -> float:
        return self.param_groups[0]["eps"]

    @property
    def weight_decay(self) -> float:
        return self.param_groups[0]["weight_decay"]

    def _advance(self, steps: int) -> None:
        self.t += steps

    def _state_arrays(self) -> list[np.ndarray | None]:
        return [*self.m, *self.v]

    def _rule(self, group: dict[str, Any]) -> tuple[Any, ...]:
        b1, b2 = group["betas"]
        return (group["lr"], b1, b2, group["eps"], group["weight_decay"], self.t)

    def _apply(self, be: Any, idx: list[int], ps: list[Tensor], rule: tuple[Any, ...]) -> None:
        if self._one_call(ps):
            ms, vs = [self.m[i] for i in idx], [self.v[i] for i in idx]
            be.adam_step_many([p.data for p in ps], [p._grad.data for p in ps], ms, vs, *rule)
        else:  # the plain loop: one update per parameter
            for i, p in zip(idx, ps):
                self._update(p, be.adam_step, p._grad.data, self.m[i], self.v[i], *rule)

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr, "t": self.t, "m": list(self.m), "v": list(self.v)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.m = self._load_buffers("Adam m", list(state["m"]))  # type: ignore[assignment]
        self.v = self._load_buffers("Adam v", list(state["v"]))  # type: ignore[assignment]
        self.t, self.lr = int(state["t"]), float(state["lr"])


class StepLR:
    """lr = base_lr * gamma ** (epoch // step_size); call step() once per epoch."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.epoch = optimizer.lr, 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.epoch // self.step_size)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.base_lr = int(state["epoch"]), float(state["base_lr"])


class CosineLR:
    """lr = min_lr + (base_lr - min_lr) (1 + cos(pi t / T)) / 2 over T steps (epochs or batches)."""

    def __init__(self, optimizer: Optimizer, total_steps: int, min_lr: float = 0.0) -> None:
        if total_steps < 1:
            raise ValueError("CosineLR: total_steps must be >= 1")
        self.optimizer, self.total, self.min_lr = optimizer, total_steps, min_lr
        self.base_lr, self.t = optimizer.lr, 0

    def step(self) -> None:
        self.t = min(self.t + 1, self.total)
        cos = (1 + math.cos(math.pi * self.t / self.total)) / 2
        self.optimizer.lr = self.min_lr + (self.base_lr - self.min_lr) * cos

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t, self.base_lr = int(state["t"]), float(state["base_lr"])
