"""Layer fusion: a Linear and the activation after it run as one op, visibly and switchably.

Fused (the default), `Sequential` runs Linear + Sigmoid as one `ops.linear.FusedLinear` Function:
one backend call forward, y = act(x @ w^T + b), and one backward. On the C backend the GEMM
applies the bias and the activation to each tile of y while it is still in the CPU cache
(csrc/linear.c), instead of a matmul, a bias add and an activation that each sweep the whole
array through memory. The activation's math is the same in both paths: the fused kernel
calls the functions of csrc/activation_math.h that the standalone kernels call.

Unfused, each op runs through its own Function: Transpose, MatMul, Add, then the activation
(e.g. `ops.activations.Sigmoid`), which is what the course draws and what `draw_dot` shows.

What runs is visible: `print(model)` marks the fused layers, and `draw_dot` labels a fused
node `linear+sigmoid` and lists its parts. Turn fusion off with `MLP(..., fuse=False)`,
`Sequential(..., fuse=False)`, or the environment variable TINYGRAD_FUSE=0 (read when a
model is built; it takes 0/false/no/off or 1/true/yes/on, any case; unset or empty means on,
and any other value is named in one warning and leaves fusion on). A Linear used on its own (or F.linear) is always the one `linear` op,
matmul and bias together; write `x @ w.T + b` to run them separately.
"""

from __future__ import annotations

import os
import warnings

FUSE_ENV = "TINYGRAD_FUSE"
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on", "")
_warned: set[str] = set()  # the values already warned about: each is said once


def fusion_default() -> bool:
    """True unless the environment sets TINYGRAD_FUSE to 0, false, no or off."""
    raw = os.environ.get(FUSE_ENV, "")
    value = raw.strip().lower()
    if value not in _OFF + _ON and raw not in _warned:
        _warned.add(raw)
        warnings.warn(
            f"{FUSE_ENV}={raw!r} is not one of 0/false/no/off or 1/true/yes/on, so it is "
            "ignored and fusion stays on; set it to 0 to run layers unfused",
            UserWarning,
            stacklevel=3,
        )
    return value not in _OFF
