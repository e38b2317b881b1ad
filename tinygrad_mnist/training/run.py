"""Training an MLP on MNIST: the loop behind `tinygrad-mnist train`, usable as a library.

    from tinygrad_mnist.training import TrainConfig, train
    metrics = train(TrainConfig(epochs=1, train_limit=5000, output="model.npz"))

One step is the textbook loop: forward, cross-entropy, `zero_grad`, `backward`, optimizer
step, then the learning-rate schedule's step (schedules move once per batch).

Stopping and resuming. While `train` runs, Ctrl-C (SIGINT) only sets a flag; the step in
progress finishes, a checkpoint is saved and `TrainingInterrupted` is raised. A checkpoint
stores the loader's state from the *start* of the epoch in progress and how many of its
batches were done, so `resume` replays the same shuffled order and skips those batches:
with the same backend the final weights are bit-identical to an uninterrupted run.

Test hook: if the environment variable TINYGRAD_MNIST_TEST_SIGINT_AT_STEP=N is set, the
trainer sends itself SIGINT during step N (counted from 1 over the whole run), so a test can
exercise the real signal path at a known step.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import math
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from . import backends
from .atomic_file import write_bytes_atomic, write_files_atomic
from .data import DataLoader, load_mnist_arrays
from .grad_mode import no_grad
from .nn import MLP
from .nn import functional as F
from .nn.activation import ACTIVATIONS
from .nn.init import INITS
from .optim import SGD, Adam, CosineLR, Optimizer, StepLR
from .serialization import (
    ModelFileError,
    check_model_size,
    load_checkpoint,
    model_bytes,
    read_checkpoint_extra,
    save_checkpoint,
)
from .tensor import Tensor

TEST_SIGINT_ENV = "TINYGRAD_MNIST_TEST_SIGINT_AT_STEP"
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "step", "none")
TARGET_ACCURACY = 0.98  # for the metric "time to reach 98%"
POSTFIX_EVERY = 20  # steps between progress-bar postfix updates (formatting them is not free)
NUM_CLASSES = 10


class ConfigError(ValueError):
    """A training option has a value that cannot work (e.g. a negative learning rate)."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the model is broken and was not saved."""


class SaveFailedError(OSError):
    """The trained model could not be written where asked; the message says where it went."""

    def __str__(self) -> str:
        return str(self.args[0])


class TrainingInterrupted(Exception):
    """Training stopped early on request (Ctrl-C); `checkpoint` is where its state was saved."""

    def __init__(self, message: str, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


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

    def validate(self) -> None:
        """Raise ConfigError naming the first option whose value cannot work."""
        if not self.hidden or not all(_is_int(h) and h >= 1 for h in self.hidden):
            raise ConfigError(f"hidden sizes must be positive integers, got {self.hidden!r}")
        try:  # the cap model files obey, checked before gigabytes are allocated
            check_model_size([784, *self.hidden, NUM_CLASSES], "--hidden: the MLP")
        except ValueError as e:
            raise ConfigError(str(e)) from None
        _check_choice("activation", self.activation, tuple(ACTIVATIONS))
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
            if not (_is_int(value) and value >= 1):
                raise ConfigError(
                    f"{name.replace('_', ' ')} must be an integer >= 1, got {value!r}"
                )
        if not (_is_int(self.seed) and self.seed >= 0):
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and not (_is_int(value) and value >= 1):
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


def default_metrics_path(output: str | os.PathLike[str]) -> Path:
    """mnist_mlp.npz -> mnist_mlp.json"""
    return Path(output).with_suffix(".json")


def default_checkpoint_path(output: str | os.PathLike[str]) -> Path:
    """mnist_mlp.npz -> mnist_mlp.ckpt.npz"""
    return Path(output).with_suffix(".ckpt.npz")


# ---------------------------------------------------------------------------- evaluation
def evaluate_with_loss(
    model: MLP, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray]:
    """(mean cross-entropy, confusion [10, 10] int64) of `model` on x [N, 784], y [N].

    confusion[i, j] counts images of digit i predicted as j.
    """
    if len(x) == 0:
        raise ValueError("evaluate: no samples")
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    loss_sum = 0.0
    with no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            logits = model(Tensor(xb))
            loss_sum += F.cross_entropy(logits, yb).item() * len(yb)
            pred = logits.data.argmax(axis=1)
            confusion += np.bincount(
                yb * NUM_CLASSES + pred, minlength=NUM_CLASSES * NUM_CLASSES
            ).reshape(NUM_CLASSES, NUM_CLASSES)
    return loss_sum / len(x), confusion


def accuracies(confusion: np.ndarray) -> tuple[float, np.ndarray]:
    """(overall accuracy, per-class accuracy [10]; NaN for a digit with no images)."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / totals
    return float(np.trace(confusion) / confusion.sum()), per_class


def evaluate(
    model: MLP, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray, np.ndarray]:
    """(accuracy, per-class accuracy [10], confusion [10, 10] int) on x [N, 784], y [N]."""
    _, confusion = evaluate_with_loss(model, x, y, batch_size)
    accuracy, per_class = accuracies(confusion)
    return accuracy, per_class, confusion


# ---------------------------------------------------------------------------- training
class _SigintFlag:
    """While active, Ctrl-C sets `.requested` instead of raising KeyboardInterrupt.

    A second Ctrl-C raises KeyboardInterrupt at once, for when waiting is not wanted.
    Signal handlers can only be installed from the main thread; elsewhere this does nothing.
    """

    def __enter__(self) -> _SigintFlag:
        self.requested = False
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@dataclass
class _Position:
    """Where a run is: what a checkpoint stores besides the model and optimizer."""

    epoch: int = 0  # index of the epoch in progress, from 0
    step_in_epoch: int = 0  # batches of that epoch already done
    global_step: int = 0  # batches done over the whole run
    loss_sum: float = 0.0  # sum over this epoch's samples so far of the loss
    correct: int = 0  # this epoch's correctly classified training samples so far
    seen: int = 0  # this epoch's training samples so far
    train_time: float = 0.0  # seconds spent in this epoch's steps so far
    elapsed: float = 0.0  # seconds of the whole run up to the start of this epoch


def train(config: TrainConfig, stop_after_steps: int | None = None) -> dict[str, Any]:
    """Train as `config` says; save the model and metrics; return the metrics dict.

    `stop_after_steps=N` behaves as if Ctrl-C came during step N (counted over the whole
    run): it saves a checkpoint and raises TrainingInterrupted. Raises ConfigError,
    TrainingDivergedError, ModelFileError (bad --resume file), and the data loader's errors.
    """
    config.validate()
    notes: list[str] = []
    saved: dict[str, Any] | None = None
    if config.resume:
        saved = read_checkpoint_extra(config.resume)
        config, notes = _config_for_resume(config, saved)
    for note in notes:
        tqdm.write(note, file=sys.stderr)
    config.check_outputs()
    chosen = backends.backend(config.backend) if config.backend else contextlib.nullcontext()
    # Overflow on the way to a NaN loss is reported once, as TrainingDivergedError, instead
    # of as a stream of NumPy warnings.
    quiet_overflow = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    with chosen, quiet_overflow, _SigintFlag() as sigint:
        return _run(config, saved, stop_after_steps, sigint)


def _run(
    cfg: TrainConfig,
    saved: dict[str, Any] | None,
    stop_after_steps: int | None,
    sigint: _SigintFlag,
) -> dict[str, Any]:
    x_train, y_train = load_mnist_arrays("train", cfg.data_dir)
    x_test, y_test = load_mnist_arrays("test", cfg.data_dir)
    x_train, y_train = x_train[: cfg.train_limit], y_train[: cfg.train_limit]
    x_test, y_test = x_test[: cfg.test_limit], y_test[: cfg.test_limit]
    if len(x_train) == 0 or len(x_test) == 0:
        raise ConfigError(
            f"no images to {'train' if len(x_train) == 0 else 'test'} on: the data set is empty"
        )

    loader = DataLoader(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    model = MLP([784, *cfg.hidden, NUM_CLASSES], cfg.activation, init=cfg.init, seed=cfg.seed)
    optimizer = _make_optimizer(cfg, model)
    schedule = _make_schedule(cfg, optimizer, cfg.epochs * len(loader))

    pos, history = _Position(), []
    if saved is not None:
        assert cfg.resume is not None
        load_checkpoint(cfg.resume, model, optimizer)
        try:
            if schedule is not None:
                schedule.load_state_dict(saved["scheduler"])
            loader.load_state_dict(saved["loader"])
            pos = _Position(**saved["position"])
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
        tqdm.write(
            f"resuming from {cfg.resume}: epoch {pos.epoch + 1}/{cfg.epochs}, "
            f"{pos.step_in_epoch}/{len(loader)} batches done",
            file=sys.stderr,
        )

    ckpt_path = cfg.checkpoint or (default_checkpoint_path(cfg.output) if cfg.output else None)
    sigint_at_step = int(os.environ.get(TEST_SIGINT_ENV, "0") or 0)

    def checkpoint(path: str | os.PathLike[str], loader_state: dict[str, Any]) -> None:
        extra = {
            "config": _jsonable_config(cfg),
            "position": asdict(pos),
            "loader": loader_state,
            "scheduler": schedule.state_dict() if schedule is not None else None,
            "epochs": history,
            "backend": backends.get_backend(),
        }
        save_checkpoint(path, model, optimizer, extra)

    n_batches = len(loader)
    confusion: np.ndarray | None = None
    test_loss = math.nan
    for epoch in range(pos.epoch, cfg.epochs):
        epoch_start_state = copy.deepcopy(loader.state_dict())  # saved by a mid-epoch stop
        # Same permutation as the uninterrupted run; skip the batches a checkpoint already did.
        batches = itertools.islice(iter(loader), pos.step_in_epoch, None)
        bar = tqdm(
            total=n_batches,
            initial=pos.step_in_epoch,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            unit="batch",
            leave=False,
            disable=not cfg.progress,
            file=sys.stderr,
        )
        start = time.perf_counter()
        with bar:
            for xb, yb in batches:
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                if pos.global_step + 1 == sigint_at_step:  # the test hook: Ctrl-C mid-step
                    os.kill(os.getpid(), signal.SIGINT)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    raise TrainingDivergedError(
                        f"training diverged: the loss became {loss_value} at epoch "
                        f"{epoch + 1}/{cfg.epochs}, step {pos.step_in_epoch + 1}/{n_batches} "
                        f"(step {pos.global_step + 1} overall) with lr {optimizer.lr:.6g}. "
                        f"Try a lower --lr (e.g. {optimizer.lr / 10:.3g}); no model was saved."
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if schedule is not None:
                    schedule.step()

                n = len(yb)
                pos.loss_sum += loss_value * n
                pos.correct += int((logits.data.argmax(axis=1) == yb.data).sum())
                pos.seen += n
                pos.step_in_epoch += 1
                pos.global_step += 1
                bar.update()
                if pos.step_in_epoch % POSTFIX_EVERY == 0:
                    seconds = pos.train_time + time.perf_counter() - start
                    bar.set_postfix(
                        loss=f"{pos.loss_sum / pos.seen:.4f}",
                        acc=f"{100 * pos.correct / pos.seen:.2f}%",
                        samples_s=f"{pos.seen / seconds:.0f}",
                        refresh=False,
                    )
                if sigint.requested or pos.global_step == stop_after_steps:
                    pos.train_time += time.perf_counter() - start
                    raise _interrupted(
                        ckpt_path, checkpoint, epoch_start_state, _resume_command(cfg, ckpt_path)
                    )
        pos.train_time += time.perf_counter() - start

        eval_start = time.perf_counter()
        test_loss, confusion = evaluate_with_loss(model, x_test, y_test)
        test_acc, _ = accuracies(confusion)
        epoch_time = pos.train_time + time.perf_counter() - eval_start
        record = {
            "epoch": epoch + 1,
            "train_loss": pos.loss_sum / pos.seen,
            "train_acc": pos.correct / pos.seen,
            "test_loss": _finite_or_none(test_loss),
            "test_acc": test_acc,
            "epoch_time": epoch_time,
            "samples_per_s": pos.seen / pos.train_time if pos.train_time > 0 else None,
            "lr": optimizer.lr,  # at the end of the epoch
            "elapsed": pos.elapsed + epoch_time,
        }
        history.append(record)
        tqdm.write(
            f"epoch {epoch + 1}/{cfg.epochs}  train loss {record['train_loss']:.4f}  "
            f"train acc {100 * record['train_acc']:.2f}%  test acc {100 * test_acc:.2f}%  "
            f"time {epoch_time:.1f}s"
        )
        pos = _Position(epoch=epoch + 1, global_step=pos.global_step, elapsed=record["elapsed"])
        if cfg.checkpoint:
            try:
                checkpoint(cfg.checkpoint, loader.state_dict())
            except OSError as e:  # losing one epoch's checkpoint must not end the run
                tqdm.write(f"warning: {e}; training goes on without it", file=sys.stderr)
        if sigint.requested and epoch + 1 < cfg.epochs:  # Ctrl-C came during the evaluation
            raise _interrupted(
                ckpt_path, checkpoint, loader.state_dict(), _resume_command(cfg, ckpt_path)
            )

    if confusion is None:  # resumed from a checkpoint of a finished run
        test_loss, confusion = evaluate_with_loss(model, x_test, y_test)
    metrics = _final_metrics(cfg, history, test_loss, confusion, pos.elapsed, len(x_train))
    metrics_json = (_to_json(metrics) + "\n").encode()
    if cfg.output:
        meta = {k: metrics[k] for k in ("test_acc", "backend", "total_time")}
        data = model_bytes(model, {**meta, "config": metrics["config"]})
        metrics_path = cfg.metrics or default_metrics_path(cfg.output)
        try:  # both or neither: never a new model beside the old run's metrics
            write_files_atomic({cfg.output: data, metrics_path: metrics_json})
        except OSError as e:
            rescued = _rescue(Path(cfg.output).name, data)
            where = (
                f"the trained model was saved to {rescued} instead"
                if rescued
                else "it could not be saved anywhere else either: the trained weights are lost"
            )
            raise SaveFailedError(f"{e}; {where}") from e
    elif cfg.metrics:
        write_bytes_atomic(cfg.metrics, metrics_json)
    return metrics


def _interrupted(
    path: str | os.PathLike[str] | None,
    checkpoint: Callable[[str | os.PathLike[str], dict[str, Any]], None],
    loader_state: dict[str, Any],
    resume_command: str,
) -> TrainingInterrupted:
    """Save a checkpoint (if there is a path) and make the exception that tells the user so."""
    if path is None:
        return TrainingInterrupted("training interrupted; no checkpoint path, nothing saved", None)
    try:
        checkpoint(path, loader_state)
    except OSError as e:
        rescue_path = _rescue_path(Path(path).name)
        try:
            checkpoint(rescue_path, loader_state)
        except OSError:
            return TrainingInterrupted(
                f"training interrupted; the checkpoint is lost: {e}, and it could not be "
                "written anywhere else either", None
            )  # fmt: skip
        command = resume_command.replace(shlex.quote(str(path)), shlex.quote(str(rescue_path)), 1)
        return TrainingInterrupted(
            f"training interrupted; {e}; the checkpoint was saved to {rescue_path} instead\n"
            f"resume with: {command}",
            rescue_path,
        )
    return TrainingInterrupted(
        f"training interrupted; checkpoint saved to {path}\nresume with: {resume_command}",
        Path(path),
    )


def _rescue_path(name: str) -> Path:
    """Where a file that could not be written where asked goes instead: the temp folder."""
    return Path(tempfile.gettempdir()) / f"tinygrad-mnist-rescued-{os.getpid()}-{name}"


def _rescue(name: str, data: bytes) -> Path | None:
    """Write `data` to a rescue path; the path, or None if that failed too."""
    path = _rescue_path(name)
    try:
        write_bytes_atomic(path, data)
    except OSError:
        return None
    return path


def check_writable(option: str, path: Path) -> None:
    """Raise ConfigError unless a file can be created at `path` (it is not a folder, and its
    folder exists and takes new files). Probed by creating and removing a temporary file."""
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a directory; give a file name")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write {path}: directory {path.parent} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.probe."):
            pass
    except OSError as e:
        raise ConfigError(f"{option}: cannot write {path}: {e.strerror}") from None


def _rates_problem(optimizer: Optimizer, schedule: Any) -> str | None:
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
    pos: _Position, history: list[Any], n_batches: int, cfg: TrainConfig
) -> str | None:
    """What is wrong with a checkpoint's position (None if nothing): every field must have
    its type and a value this run can have reached."""
    for f in fields(pos):
        value = getattr(pos, f.name)
        if f.type == "int" and not (_is_int(value) and value >= 0):
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


def _resume_command(cfg: TrainConfig, checkpoint: str | os.PathLike[str]) -> str:
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


def _make_optimizer(cfg: TrainConfig, model: MLP) -> Optimizer:
    if cfg.optimizer == "adam":
        return Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return SGD(
        model.parameters(),
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        nesterov=cfg.nesterov and cfg.momentum > 0,
    )


def _make_schedule(cfg: TrainConfig, optimizer: Optimizer, total_steps: int) -> Any:
    """The per-batch schedule: cosine to 0 over the run, or x0.1 after each third of it."""
    if cfg.schedule == "cosine":
        return CosineLR(optimizer, total_steps)
    if cfg.schedule == "step":
        return StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)
    return None


def _final_metrics(
    cfg: TrainConfig,
    history: list[dict[str, Any]],
    test_loss: float,
    confusion: np.ndarray,
    total_time: float,
    train_samples: int,
) -> dict[str, Any]:
    test_acc, per_class = accuracies(confusion)
    reached = [h["elapsed"] for h in history if h["test_acc"] >= TARGET_ACCURACY]
    return {
        "config": _jsonable_config(cfg),
        "backend": backends.get_backend(),
        "train_samples": train_samples,
        "test_samples": int(confusion.sum()),
        "epochs": history,
        "test_loss": _finite_or_none(test_loss),
        "test_acc": test_acc,
        "per_class_acc": [None if math.isnan(a) else float(a) for a in per_class],
        "confusion": confusion.tolist(),
        "total_time": total_time,
        "time_to_98": reached[0] if reached else None,
    }


def _config_for_resume(config: TrainConfig, saved: dict[str, Any]) -> tuple[TrainConfig, list[str]]:
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


def _jsonable_config(cfg: TrainConfig) -> dict[str, Any]:
    out = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    out["hidden"] = list(cfg.hidden)
    return out


def _to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, allow_nan=False)


def _finite_or_none(x: float) -> float | None:
    """JSON has no NaN or Infinity; such a value is written as null."""
    return x if math.isfinite(x) else None


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
