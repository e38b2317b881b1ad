"""Checkpoints of a run in progress: what they hold, saving one when training stops early,
and checking and restoring one to resume.

A checkpoint holds the model, the optimizer's state and, as its "extra": the options, the
`Position` (epoch, batches done in it, running sums), the loader's state from the *start* of
the epoch in progress, the schedule's state and the epochs' records. Resuming replays that
epoch's shuffled order and skips the batches already done, so with the same backend the final
weights are bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import backends
from ..nn import MLP
from ..optim import CosineLR, Optimizer, StepLR
from ..serialization import ModelFileError, load_checkpoint, save_checkpoint
from ..utils.data import DataLoader
from .config import RUN_FIELDS, TrainConfig, is_int, jsonable_config
from .errors import ConfigError, TrainingInterrupted
from .outputs import rescue_path


@dataclass
class Position:
    """Where a run is: what a checkpoint stores besides the model and optimizer."""

    epoch: int = 0  # index of the epoch in progress, from 0
    step_in_epoch: int = 0  # batches of that epoch already done
    global_step: int = 0  # batches done over the whole run
    loss_sum: float = 0.0  # sum over this epoch's samples so far of the loss
    correct: int = 0  # this epoch's correctly classified training samples so far
    seen: int = 0  # this epoch's training samples so far
    train_time: float = 0.0  # seconds spent in this epoch's steps so far
    elapsed: float = 0.0  # seconds of the whole run up to the start of this epoch


def save_run_checkpoint(
    path: str | os.PathLike[str],
    cfg: TrainConfig,
    model: MLP,
    optimizer: Optimizer,
    schedule: CosineLR | StepLR | None,
    pos: Position,
    history: list[dict[str, Any]],
    loader_state: dict[str, Any],
) -> None:
    """Save everything `resume` needs to continue the run from `pos`."""
    extra = {
        "config": jsonable_config(cfg),
        "position": asdict(pos),
        "loader": loader_state,
        "scheduler": schedule.state_dict() if schedule is not None else None,
        "epochs": history,
        "backend": backends.get_backend(),
    }
    save_checkpoint(path, model, optimizer, extra)


def interrupted(
    path: str | os.PathLike[str] | None,
    save: Callable[[str | os.PathLike[str]], None],
    resume_command: str,
) -> TrainingInterrupted:
    """Save a checkpoint with `save(path)` (if there is a path; to the rescue folder if that
    fails) and make the exception that tells the user where it is and how to resume."""
    if path is None:
        return TrainingInterrupted("training interrupted; no checkpoint path, nothing saved", None)
    try:
        save(path)
    except OSError as e:
        rescued = rescue_path(Path(path).name)
        try:
            save(rescued)
        except OSError:
            return TrainingInterrupted(
                f"training interrupted; the checkpoint is lost: {e}, and it could not be "
                "written anywhere else either", None
            )  # fmt: skip
        command = resume_command.replace(shlex.quote(str(path)), shlex.quote(str(rescued)), 1)
        return TrainingInterrupted(
            f"training interrupted; {e}; the checkpoint was saved to {rescued} instead\n"
            f"resume with: {command}",
            rescued,
        )
    return TrainingInterrupted(
        f"training interrupted; checkpoint saved to {path}\nresume with: {resume_command}",
        Path(path),
    )


def resume_command(cfg: TrainConfig, checkpoint: str | os.PathLike[str]) -> str:
    """The command line that continues this run: the checkpoint holds the training options,
    but where to read and write is given again."""
    words = ["tinygrad-mnist", "train", "--resume", str(checkpoint)]
    for option, value in (
        ("--output", cfg.output),
        ("--metrics", cfg.metrics),
        ("--checkpoint", cfg.checkpoint),
        ("--data-dir", cfg.data_dir),
        ("--backend", cfg.backend),
    ):
        if value is not None and not (option == "--output" and value == TrainConfig.output):
            words += [option, str(value)]
    return " ".join(shlex.quote(w) for w in words)


def config_for_resume(config: TrainConfig, saved: dict[str, Any]) -> tuple[TrainConfig, list[str]]:
    """`config` with the run-defining options of the checkpoint, and notes on what changed."""
    try:
        run = {name: saved["config"][name] for name in RUN_FIELDS}
        run["hidden"] = tuple(run["hidden"])
        resumed = replace(config, **run)
        resumed.validate()
    except (KeyError, TypeError, ConfigError) as e:
        raise ModelFileError(
            f"{config.resume}: the saved training options are invalid ({e!r})"
        ) from e
    # Only options changed from their defaults were asked for; note those that are overruled.
    defaults = TrainConfig()
    notes = [
        f"note: resuming with the checkpoint's {name}={run[name]!r} (not {getattr(config, name)!r})"
        for name in RUN_FIELDS
        if getattr(config, name) != run[name] and getattr(config, name) != getattr(defaults, name)
    ]
    return resumed, notes


def restore(
    cfg: TrainConfig,
    saved: dict[str, Any],
    model: MLP,
    optimizer: Optimizer,
    schedule: CosineLR | StepLR | None,
    loader: DataLoader,
) -> tuple[Position, list[dict[str, Any]]]:
    """Load the checkpoint `cfg.resume` (whose extra is `saved`) into the model, optimizer,
    schedule and loader; return its position and epoch records. ModelFileError if any of it
    is missing or impossible."""
    assert cfg.resume is not None
    load_checkpoint(cfg.resume, model, optimizer)
    try:
        if schedule is not None:
            schedule.load_state_dict(saved["scheduler"])
        loader.load_state_dict(saved["loader"])
        pos = Position(**saved["position"])
        history = list(saved["epochs"])
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{cfg.resume}: incomplete training state ({e!r})") from e
    problem = _position_problem(pos, history, len(loader), cfg) or _rates_problem(
        optimizer, schedule
    )
    if problem:
        raise ModelFileError(f"{cfg.resume}: invalid training state: {problem}")
    if saved.get("backend") != backends.get_backend():
        tqdm.write(
            f"note: the checkpoint was made on the {saved.get('backend')} backend; on "
            f"{backends.get_backend()} the result will differ slightly from an "
            "uninterrupted run",
            file=sys.stderr,
        )
    if pos.epoch < cfg.epochs:  # a finished run is reported by the caller
        tqdm.write(
            f"resuming from {cfg.resume}: epoch {pos.epoch + 1}/{cfg.epochs}, "
            f"{pos.step_in_epoch}/{len(loader)} batches done",
            file=sys.stderr,
        )
    return pos, history


def _rates_problem(optimizer: Optimizer, schedule: CosineLR | StepLR | None) -> str | None:
    """What is wrong with a restored optimizer's and schedule's numbers (None if nothing): a
    NaN or negative learning rate, or a negative step count, would train wrongly without a
    word (and a NaN lr would later be blamed on --lr)."""
    rates = {"optimizer lr": optimizer.lr}
    if schedule is not None:
        rates["schedule base_lr"] = schedule.base_lr
    for name, value in rates.items():
        if not (math.isfinite(value) and value >= 0):
            return f"the {name} must be a finite number >= 0, got {value!r}"
    for owner, name in ((optimizer, "t"), (schedule, "t"), (schedule, "epoch")):
        value = getattr(owner, name, 0)
        if owner is not None and value < 0:
            return f"the {type(owner).__name__} step count {name} must be >= 0, got {value}"
    return None


def _position_problem(
    pos: Position, history: list[Any], n_batches: int, cfg: TrainConfig
) -> str | None:
    """What is wrong with a checkpoint's position (None if nothing): every field must have
    its type and a value this run can have reached."""
    for f in fields(pos):
        value = getattr(pos, f.name)
        if f.type == "int" and not (is_int(value) and value >= 0):
            return f"{f.name} must be an integer >= 0, got {value!r}"
        if f.type == "float" and not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value >= 0
        ):
            return f"{f.name} must be a finite number >= 0, got {value!r}"
    if pos.epoch > cfg.epochs:
        return f"epoch {pos.epoch} is past the run's {cfg.epochs} epochs"
    if pos.step_in_epoch > n_batches:
        return f"step_in_epoch {pos.step_in_epoch} is past the epoch's {n_batches} batches"
    if pos.global_step != pos.epoch * n_batches + pos.step_in_epoch:
        return (
            f"global_step {pos.global_step} does not match epoch {pos.epoch} and "
            f"step_in_epoch {pos.step_in_epoch} ({n_batches} batches per epoch)"
        )
    if not pos.step_in_epoch <= pos.seen <= pos.step_in_epoch * cfg.batch_size:
        return f"seen {pos.seen} does not match {pos.step_in_epoch} batches of {cfg.batch_size}"
    if pos.correct > pos.seen:
        return f"correct {pos.correct} is more than seen {pos.seen}"
    if len(history) != pos.epoch or not all(isinstance(h, dict) for h in history):
        return f"the history lists {len(history)} epochs, not the {pos.epoch} done"
    return None
