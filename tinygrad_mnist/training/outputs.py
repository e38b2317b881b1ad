"""The files a training run writes: their default names, the check that they can be written
(made before the first step, not after the minutes of work), and the rescue folder a file goes
to when it cannot be written where asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..atomic_file import write_bytes_atomic
from .errors import ConfigError


def default_metrics_path(output: str | os.PathLike[str]) -> Path:
    """mnist_mlp.npz -> mnist_mlp.json"""
    return Path(output).with_suffix(".json")


def default_checkpoint_path(output: str | os.PathLike[str]) -> Path:
    """mnist_mlp.npz -> mnist_mlp.ckpt.npz"""
    return Path(output).with_suffix(".ckpt.npz")


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


def rescue_path(name: str) -> Path:
    """Where a file that could not be written where asked goes instead: the temp folder."""
    return Path(tempfile.gettempdir()) / f"tinygrad-mnist-rescued-{os.getpid()}-{name}"


def rescue(name: str, data: bytes) -> Path | None:
    """Write `data` to a rescue path; the path, or None if that failed too."""
    path = rescue_path(name)
    try:
        write_bytes_atomic(path, data)
    except OSError:
        return None
    return path
