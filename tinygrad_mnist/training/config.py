"""The options of a training run (`TrainConfig`) and the checks that they can work, made
before any data is read."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends
from ..nn.activation import ACTIVATION_LAYERS
from ..nn.init import INITS
from ..serialization import check_model_size
from .errors import ConfigError
from .outputs import check_writable, default_checkpoint_path, default_metrics_path

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "step", "none")
NUM_CLASSES = 10


@dataclass
class TrainConfig:
    """Every option of a training run. The defaults are the recipe that reaches >= 98%."""

    hidden: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    init: str = "kaiming"
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    batch_size: int = 128
    epochs: int = 12
    seed: int = 0
    train_limit: int | None = None  # use only the first N training images
    test_limit: int | None = None  # use only the first N test images
    # Where and how to run; these may differ between a run and its resumption.
    backend: str | None = None  # None: the current backend
    data_dir: str | None = None
    output: str | None = "mnist_mlp.npz"  # None: do not save the model
    metrics: str | None = None  # None: <output stem>.json (nothing if output is None)
    checkpoint: str | None = None  # also save one after every epoch, here
    resume: str | None = None
    progress: bool = True
    capture: bool = True  # replay each step from C (capture.py); False: eager steps

    def validate(self) -> None:
        """Raise ConfigError naming the first option whose value cannot work."""
        if not self.hidden or not all(is_int(h) and h >= 1 for h in self.hidden):
            raise ConfigError(f"hidden sizes must be positive integers, got {self.hidden!r}")
        try:  # the cap model files obey, checked before gigabytes are allocated
            check_model_size([784, *self.hidden, NUM_CLASSES], "--hidden: the MLP")
        except ValueError as e:
            raise ConfigError(str(e)) from None
        _check_choice("activation", self.activation, tuple(ACTIVATION_LAYERS))
        _check_choice("init", self.init, tuple(INITS))
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        if self.backend is not None:
            _check_choice("backend", self.backend, backends.NAMES)
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.momentum, int | float) and 0 <= self.momentum < 1):
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (isinstance(self.weight_decay, int | float) and 0 <= self.weight_decay < math.inf):
            raise ConfigError(f"weight decay must be a number >= 0, got {self.weight_decay!r}")
        if self.optimizer == "sgd" and self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov needs momentum > 0 (use --no-nesterov with momentum 0)")
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if not (is_int(value) and value >= 1):
                raise ConfigError(
                    f"{name.replace('_', ' ')} must be an integer >= 1, got {value!r}"
                )
        if not (is_int(self.seed) and self.seed >= 0):
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and not (is_int(value) and value >= 1):
                raise ConfigError(
                    f"{name.replace('_', ' ')} must be an integer >= 1, got {value!r}"
                )
        for option, path in (
            ("output", self.output),
            ("metrics", self.metrics),
            ("checkpoint", self.checkpoint),
        ):
            if path is not None and not str(path).strip():
                raise ConfigError(f"--{option} is empty; give a file name")
            if path is not None and not Path(path).resolve().parent.is_dir():
                raise ConfigError(
                    f"cannot write {path}: directory {Path(path).parent} does not exist"
                )

    def output_paths(self) -> dict[str, Path]:
        """The files a run writes, by option: model, metrics, checkpoint (those that apply)."""
        out: dict[str, Path] = {}
        if self.output:
            out["--output"] = Path(self.output)
        metrics = self.metrics or (default_metrics_path(self.output) if self.output else None)
        if metrics:
            out["--metrics"] = Path(metrics)
        ckpt = self.checkpoint or (default_checkpoint_path(self.output) if self.output else None)
        if ckpt:
            out["--checkpoint"] = Path(ckpt)
        return out

    def check_outputs(self) -> None:
        """Raise ConfigError unless every file the run writes can be written, and no two
        are the same file: checked before the first step, not after the minutes of work."""
        for option, path in (("--metrics", self.metrics), ("--checkpoint", self.checkpoint)):
            if path and Path(path).is_dir():
                raise ConfigError(f"{option} {path} is a directory; give a file name")
        if self.output and (Path(self.output).is_dir() or Path(self.output).name in ("", "..")):
            raise ConfigError(f"--output {self.output} is a directory; give a file name")
        seen: dict[str, str] = {}
        given = {
            "--output": True,
            "--metrics": bool(self.metrics),
            "--checkpoint": bool(self.checkpoint),
        }
        for option, path in self.output_paths().items():
            what = f"{option} {path}" if given[option] else f"{option} (default) {path}"
            key = os.path.realpath(path)
            if key in seen:
                raise ConfigError(
                    f"{what} is the same file as {seen[key]}; one would overwrite the other "
                    "(give them different names)"
                )
            seen[key] = what
            check_writable(option, path)


# The options that define what is trained; a resumed run takes them from its checkpoint.
RUN_FIELDS = (
    "hidden", "activation", "init", "optimizer", "lr", "momentum", "nesterov", "weight_decay",
    "schedule", "batch_size", "epochs", "seed", "train_limit", "test_limit",
)  # fmt: skip


def jsonable_config(cfg: TrainConfig) -> dict[str, Any]:
    """Every option, as JSON can hold it (the hidden sizes as a list)."""
    out = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    out["hidden"] = list(cfg.hidden)
    return out


def is_int(value: Any) -> bool:
    """An integer (NumPy's too) that is not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
