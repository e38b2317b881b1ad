"""What happens around the steps of `train_loop`: `RunMonitor` is the hooks object `train`
gives the loop. It keeps the running metrics and the progress bar, stops a run whose loss is
NaN, and turns Ctrl-C into a checkpoint.

Ctrl-C (SIGINT) only sets a flag (`SigintFlag`); the step in progress finishes, a checkpoint
is saved and `TrainingInterrupted` is raised. A checkpoint stores the loader's state from the
*start* of the epoch in progress and how many of its batches were done (checkpoint.py).

Test hook: if the environment variable TINYGRAD_MNIST_TEST_SIGINT_AT_STEP=N is set, the
trainer sends itself SIGINT during step N (counted from 1 over the whole run), so a test can
exercise the real signal path at a known step.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from tqdm import tqdm

from ..nn import MLP
from ..optim import CosineLR, Optimizer, StepLR
from ..tensors.tensor import Tensor
from ..utils.data import DataLoader
from .checkpoint import Position, interrupted, resume_command, save_run_checkpoint
from .config import TrainConfig
from .errors import TrainingDivergedError, TrainingInterrupted
from .evaluation import accuracies
from .metrics import finite_or_none
from .outputs import default_checkpoint_path

TEST_SIGINT_ENV = "TINYGRAD_MNIST_TEST_SIGINT_AT_STEP"
POSTFIX_EVERY = 20  # steps between progress-bar postfix updates (formatting them is not free)


class SigintFlag:
    """While active, Ctrl-C sets `.requested` instead of raising KeyboardInterrupt.

    A second Ctrl-C raises KeyboardInterrupt at once, for when waiting is not wanted.
    Signal handlers can only be installed from the main thread; elsewhere this does nothing.
    """

    def __enter__(self) -> SigintFlag:
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


class RunMonitor:
    """The `LoopHooks` of a real run (loop.py): progress, metrics, NaN stop, checkpoints.

    `pos` and `history` are where the run is and the epochs' records (from a checkpoint when
    resuming); after the loop, `test_loss` and `confusion` are the last evaluation's (None if
    the loop ran no epoch: a resumed run that had finished).
    """

    def __init__(
        self,
        cfg: TrainConfig,
        model: MLP,
        optimizer: Optimizer,
        schedule: CosineLR | StepLR | None,
        loader: DataLoader,
        pos: Position,
        history: list[dict[str, Any]],
        sigint: SigintFlag,
        stop_after_steps: int | None,
    ) -> None:
        self.cfg, self.model, self.optimizer, self.schedule = cfg, model, optimizer, schedule
        self.loader, self.pos, self.history = loader, pos, history
        self.sigint, self.stop_after_steps = sigint, stop_after_steps
        self.first_epoch = pos.epoch
        self.n_batches = len(loader)
        self.ckpt_path = cfg.checkpoint or (
            default_checkpoint_path(cfg.output) if cfg.output else None
        )
        self.sigint_at_step = int(os.environ.get(TEST_SIGINT_ENV, "0") or 0)
        self.test_loss = math.nan
        self.confusion: np.ndarray | None = None

    @contextlib.contextmanager
    def epoch(self, epoch: int, loader: DataLoader) -> Iterator[Iterator[tuple[Tensor, Tensor]]]:
        """The epoch's batches, under a progress bar and a timer. A resumed epoch draws the
        same permutation as the uninterrupted run and skips the batches already done."""
        self._epoch = epoch
        self._epoch_start_state = copy.deepcopy(loader.state_dict())  # saved by a mid-epoch stop
        batches = itertools.islice(iter(loader), self.pos.step_in_epoch, None)
        self._bar = tqdm(
            total=self.n_batches,
            initial=self.pos.step_in_epoch,
            desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
            unit="batch",
            leave=False,
            disable=not self.cfg.progress,
            file=sys.stderr,
        )
        self._start = time.perf_counter()
        with self._bar:
            yield batches
        self.pos.train_time += time.perf_counter() - self._start
        self._eval_start = time.perf_counter()

    def check_loss(self, loss: float) -> None:
        """Raise TrainingDivergedError on a NaN or infinite loss (before it reaches the
        weights). Also where the test hook sends its SIGINT, in the middle of a step."""
        pos = self.pos
        if pos.global_step + 1 == self.sigint_at_step:
            os.kill(os.getpid(), signal.SIGINT)
        if not math.isfinite(loss):
            lr = self.optimizer.lr
            raise TrainingDivergedError(
                f"training diverged: the loss became {loss} at epoch "
                f"{self._epoch + 1}/{self.cfg.epochs}, step {pos.step_in_epoch + 1}/"
                f"{self.n_batches} (step {pos.global_step + 1} overall) with lr {lr:.6g}. "
                f"Try a lower --lr (e.g. {lr / 10:.3g}); no model was saved."
            )

    def step_done(self, logits: Tensor, labels: Tensor, loss: float) -> None:
        """Count the step into the running loss and accuracy; after Ctrl-C (or at
        `stop_after_steps`), save a checkpoint and raise TrainingInterrupted."""
        pos = self.pos
        n = len(labels)
        pos.loss_sum += loss * n
        pos.correct += int((logits.data.argmax(axis=1) == labels.data).sum())
        pos.seen += n
        pos.step_in_epoch += 1
        pos.global_step += 1
        self._bar.update()
        if pos.step_in_epoch % POSTFIX_EVERY == 0:
            seconds = pos.train_time + time.perf_counter() - self._start
            self._bar.set_postfix(
                loss=f"{pos.loss_sum / pos.seen:.4f}",
                acc=f"{100 * pos.correct / pos.seen:.2f}%",
                samples_s=f"{pos.seen / seconds:.0f}",
                refresh=False,
            )
        if self.sigint.requested or pos.global_step == self.stop_after_steps:
            pos.train_time += time.perf_counter() - self._start
            raise self._interrupted(self._epoch_start_state)

    def epoch_done(self, test_loss: float, confusion: np.ndarray) -> None:
        """Record and print the epoch; save the per-epoch checkpoint if asked for one; after
        a Ctrl-C during the evaluation, save a checkpoint and raise TrainingInterrupted."""
        pos, epoch, cfg = self.pos, self._epoch, self.cfg
        self.test_loss, self.confusion = test_loss, confusion
        test_acc, _ = accuracies(confusion)
        epoch_time = pos.train_time + time.perf_counter() - self._eval_start
        record = {
            "epoch": epoch + 1,
            "train_loss": pos.loss_sum / pos.seen,
            "train_acc": pos.correct / pos.seen,
            "test_loss": finite_or_none(test_loss),
            "test_acc": test_acc,
            "epoch_time": epoch_time,
            "samples_per_s": pos.seen / pos.train_time if pos.train_time > 0 else None,
            "lr": self.optimizer.lr,  # at the end of the epoch
            "elapsed": pos.elapsed + epoch_time,
        }
        self.history.append(record)
        tqdm.write(
            f"epoch {epoch + 1}/{cfg.epochs}  train loss {record['train_loss']:.4f}  "
            f"train acc {100 * record['train_acc']:.2f}%  test acc {100 * test_acc:.2f}%  "
            f"time {epoch_time:.1f}s"
        )
        self.pos = Position(epoch=epoch + 1, global_step=pos.global_step, elapsed=record["elapsed"])
        if cfg.checkpoint:
            try:
                self._save(cfg.checkpoint, self.loader.state_dict())
            except OSError as e:  # losing one epoch's checkpoint must not end the run
                tqdm.write(f"warning: {e}; training goes on without it", file=sys.stderr)
        if self.sigint.requested and epoch + 1 < cfg.epochs:  # Ctrl-C came during the evaluation
            raise self._interrupted(self.loader.state_dict())

    def _save(self, path: str | os.PathLike[str], loader_state: dict[str, Any]) -> None:
        save_run_checkpoint(
            path, self.cfg, self.model, self.optimizer, self.schedule, self.pos, self.history,
            loader_state,
        )  # fmt: skip

    def _interrupted(self, loader_state: dict[str, Any]) -> TrainingInterrupted:
        """Save the checkpoint a stop leaves (with `loader_state`); the exception to raise."""
        return interrupted(
            self.ckpt_path,
            lambda path: self._save(path, loader_state),
            resume_command(self.cfg, self.ckpt_path) if self.ckpt_path else "",
        )
