"""Random numbers, as torch's: one default `Generator` that `manual_seed` seeds, and
`Generator` objects for `generator=` arguments.

A Generator wraps a NumPy Generator (PCG64). The streams differ from torch's (torch uses
Mersenne Twister and its own transforms), so a seed gives reproducible runs here, but not
torch's numbers.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "initial_seed", "manual_seed", "seed"]

# torch's default seed: like torch, a program that never calls manual_seed still gets the
# same numbers on every run (other numbers than torch's, though)
DEFAULT_SEED = 67280421310721


class Generator:
    """Generator(device="cpu"): a source of random numbers; `manual_seed(s)` restarts it."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self.rng = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
        self._seed = DEFAULT_SEED

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed`. The NumPy Generator stays the same object (only
        its state changes), so whoever holds it (a DataLoader) follows the new seed."""
        seed = int(seed)
        if seed < 0:  # torch takes negative seeds too (as 2^64 + seed)
            seed += 2**64
        self._seed = seed
        self.rng.bit_generator.state = np.random.PCG64(seed).state
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (torch.manual_seed): random tensors, Linear's initial
    weights, dropout masks and DataLoader shuffling then repeat from run to run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def rng_of(generator: Generator | None) -> np.random.Generator:
    """The NumPy Generator behind `generator=` (the default generator for None)."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a Generator, got {type(generator).__name__}")
    return generator.rng
