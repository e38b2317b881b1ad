"""Optimizers and learning-rate schedules. Updates happen in place on each parameter's array.

The update rules follow PyTorch (see numpy_backend.sgd_step / adam_step for the math); the
backend runs each parameter's whole update as one loop (one C call on the C backend).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import backends
from .tensor import Tensor


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameters must be Tensors with requires_grad"
                )
            if not (p.data.flags.c_contiguous and p.data.flags.writeable):
                p.data = np.ascontiguousarray(p.data).copy()  # updates happen in place
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

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
            out.append(None if a is None else np.array(a, dtype=p.dtype))
        return out


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, weight_decay=0, nesterov=False), as torch.optim.SGD."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov
        self.buffers: list[np.ndarray | None] = [
            np.zeros_like(p.data) if momentum else None for p in self.params
        ]

    def step(self) -> None:
        be = backends.current()
        for p, buf in zip(self.params, self.buffers):
            if p.grad is not None:
                be.sgd_step(
                    p.data, p.grad, buf, self.lr, self.momentum, self.weight_decay, self.nesterov
                )

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "buffers": [b for b in self.buffers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffers = self._load_buffers("SGD momentum buffers", list(state["buffers"]))
        self.lr = float(state["lr"])


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0), as torch.optim.Adam."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or eps <= 0:
            raise ValueError(f"Adam: need 0 <= betas < 1 and eps > 0, got {betas}, {eps}")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    def step(self) -> None:
        be = backends.current()
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is not None:
                be.adam_step(
                    p.data, p.grad, m, v, self.lr, b1, b2, self.eps, self.weight_decay, self.t
                )

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
