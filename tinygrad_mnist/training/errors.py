"""What can go wrong in a training run, as exceptions the command line turns into one line."""

from __future__ import annotations

from pathlib import Path


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


class RunAlreadyComplete(Exception):
    """`resume` was given the checkpoint of a run that finished, and its model and metrics
    are already written: nothing was done. The message says so in one line."""
