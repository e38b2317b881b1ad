"""Where a step being captured is recorded (capture.py): the one slot its recorder sits in.

While capture.py records a training step, every C kernel call reaches its recorder (through
c_backend.kernels_wrapped). Work that runs without a kernel cannot be replayed, so the places
that do some (the C backend's NumPy fallback, the backward engine adding gradients in NumPy)
say so here with `refuse(reason)`, and the step then stays eager. The optimizers tell the
recorder which of their kernel calls take live scalars (the learning rate, Adam's step).
Outside a recording `recorder` is None, and each of these costs one global read.
"""

from __future__ import annotations

from typing import Any

recorder: Any = None  # capture.py's _Recorder while a step is being recorded, else None


def refuse(reason: str) -> None:
    """The step being recorded did work no replay would repeat: it must stay eager."""
    if recorder is not None:
        recorder.refuse(reason)
