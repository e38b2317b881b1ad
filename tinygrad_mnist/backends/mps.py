"""torch.backends.mps on this CPU-only engine: Apple's GPU is never available, so
`torch.backends.mps.is_available()` is False. (backends/ itself chooses NumPy or C.)"""

from __future__ import annotations


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
