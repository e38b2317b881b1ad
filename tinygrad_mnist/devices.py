"""The device API of a CPU-only engine: `device`, `cuda`, `accelerator`.

Everything runs on the CPU (the backend, NumPy or C, is chosen in backends/, not by device).
So `torch.device("cpu")` works, `torch.cuda.is_available()` is False, and programs written
as `device = "cuda" if torch.cuda.is_available() else "cpu"` run unchanged. Asking for a GPU
(`.to("cuda")`) raises one clear error instead of silently computing on the CPU.
"""

from __future__ import annotations

from typing import Any

__all__ = ["accelerator", "check_device", "cuda", "device", "is_device"]

KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")


class device:  # noqa: N801 - torch's name
    """device("cpu"), device("cpu", 0) or device("cuda:0"): where a tensor lives."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in KNOWN:
            raise ValueError(f"device: unknown device type {name!r}; this engine runs on 'cpu'")
        if idx:
            if index is not None or not idx.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(idx)
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"


CPU = device("cpu")


def is_device(x: Any) -> bool:
    """True for a device or a string naming one ("cpu", "cuda:0"), as `.to(x)` takes."""
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        try:
            device(x)
        except ValueError:
            return False
        return True
    return False


def check_device(x: Any) -> device:
    """The CPU device for None, "cpu" or device("cpu"); a clear error for anything else."""
    if x is None:
        return CPU
    d = x if isinstance(x, device) else device(x) if isinstance(x, str) else None
    if d is None and isinstance(x, int) and not isinstance(x, bool):
        d = device("cuda", x)  # torch reads a bare int as a CUDA device index
    if d is None:
        raise TypeError(f"expected a device such as 'cpu', got {x!r}")
    if d.type != "cpu":
        raise RuntimeError(
            f"device {str(d)!r} is not available: tinygrad_mnist runs on the CPU only "
            "(cuda.is_available() is False); use 'cpu'"
        )
    return CPU


class cuda:  # noqa: N801 - torch.cuda, as a namespace
    """torch.cuda on a CPU-only engine: nothing is available."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Nothing to seed (torch does the same when CUDA is missing)."""

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize(device: Any = None) -> None:
        """Nothing runs asynchronously here."""

    @staticmethod
    def empty_cache() -> None:
        """No GPU memory to free."""


class accelerator:  # noqa: N801 - torch.accelerator, as a namespace
    """torch.accelerator: no accelerator, so programs fall back to the CPU."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator(check_available: bool = False) -> device | None:
        return None

    @staticmethod
    def device_count() -> int:
        return 0
