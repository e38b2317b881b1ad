"""The training loop: read this file first.

For each epoch, for each batch: forward, loss, zero_grad, backward, optimizer step (the
`train_step` function), schedule step; then evaluate on the test set. That is all
`train_loop` does. The step runs captured by default (TinyJit: after its first two calls it
is replayed from C in one call, same numbers; docs/performance.md says how). Everything else a real run
needs (the progress bar, running metrics, stopping on a NaN loss, Ctrl-C saving a checkpoint,
resuming mid-epoch) happens in `hooks`, which the loop calls at four named points; run.py
builds the model, optimizer and data and hands them here with monitor.py's hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from ..capture import TinyJit
from ..nn import MLP
from ..nn import functional as F
from ..optim import CosineLR, Optimizer, StepLR
from ..tensors.tensor import Tensor
from ..utils.data import DataLoader
from .evaluation import evaluate_with_loss


def train_loop(
    model: MLP,
    optimizer: Optimizer,
    schedule: CosineLR | StepLR | None,
    loader: DataLoader,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int,
    hooks: LoopHooks,
    capture: bool = True,
) -> None:
    """Train `model` for `epochs` passes over `loader`, evaluating after each one.

    capture=True runs each step through TinyJit (capture.py): recorded once, then replayed
    from C in one call, with the same results bit for bit; False runs it eagerly."""

    def train_step(xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        logits = model(xb)  # forward: one score per digit, [batch, 10]
        loss = F.cross_entropy(logits, yb)  # mean of -log softmax(logits)[label]
        optimizer.zero_grad()  # backward adds into .grad: clear the last batch's
        loss.backward()  # d loss / d w for every parameter w
        optimizer.step()  # w -= lr * grad (with momentum and weight decay)
        return logits, loss

    step = TinyJit(train_step, enabled=capture)
    for epoch in range(hooks.first_epoch, epochs):  # first_epoch > 0 when resuming
        with hooks.epoch(epoch, loader) as batches:  # the loader's batches, in shuffled order
            for xb, yb in batches:  # xb [batch, 784] pixels, yb [batch] labels
                logits, loss = step(xb, yb)
                loss_value = loss.item()
                hooks.check_loss(loss_value)  # a NaN loss stops the run; nothing is saved
                if schedule is not None:
                    schedule.step()  # the learning rate moves once per batch
                hooks.step_done(logits, yb, loss_value)  # running metrics; Ctrl-C stops here
        test_loss, confusion = evaluate_with_loss(model, x_test, y_test)  # under no_grad
        hooks.epoch_done(test_loss, confusion)  # the epoch's line, its checkpoint


class LoopHooks(Protocol):
    """What `train_loop` calls around its steps (monitor.RunMonitor is the one `train` uses)."""

    first_epoch: int  # the epoch to start at: 0, or where a checkpoint stopped

    def epoch(
        self, epoch: int, loader: DataLoader
    ) -> AbstractContextManager[Iterable[tuple[Tensor, Tensor]]]:
        """Around one epoch's steps: gives the batches still to do in it."""
        ...

    def check_loss(self, loss: float) -> None:
        """After the forward pass, before the update: raise to stop (a diverged loss)."""
        ...

    def step_done(self, logits: Tensor, labels: Tensor, loss: float) -> None:
        """After the update: count the step; raise to stop (Ctrl-C)."""
        ...

    def epoch_done(self, test_loss: float, confusion: np.ndarray) -> None:
        """After the evaluation: record the epoch; raise to stop (Ctrl-C during it)."""
        ...
