"""torch.backends.cudnn on this CPU-only engine: no cuDNN. The flags programs set for
reproducibility (`deterministic`, `benchmark`) are accepted and change nothing: every run
here is deterministic for a given seed and backend."""

from __future__ import annotations

enabled = False
deterministic = False
benchmark = False


def is_available() -> bool:
    return False
