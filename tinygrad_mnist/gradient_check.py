"""Gradient checking: compare backward's gradients with central finite differences.

For a scalar function L of an input x, the numeric derivative of element i is
    (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)        (error O(eps^2))
and must agree with the analytic x.grad from backward(). Everything runs in float64, where
eps = 1e-6 leaves about 1e-10 of rounding error. A non-scalar output y is reduced to the
scalar sum(y * r) with a fixed random r, which checks every output's gradient at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .autograd.grad_mode import no_grad
from .tensors.tensor import Tensor


class GradcheckError(AssertionError):
    """backward disagrees with finite differences; the message names the worst element."""


@dataclass
class GradcheckReport:
    """What gradcheck measured: per input, and the worst element over all inputs."""

    ok: bool
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    per_input_max_error: list[float]
    atol: float
    rtol: float

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        lines = [
            f"gradcheck: {verdict} (|analytic - numeric| <= {self.atol:g} + {self.rtol:g} |numeric|)"
        ]
        for i, err in enumerate(self.per_input_max_error):
            lines.append(f"  input {i}: max |analytic - numeric| = {err:.3e}")
        lines.append(
            f"  worst: input {self.worst_input} at {self.worst_index}: "
            f"analytic {self.analytic:.8g}, numeric {self.numeric:.8g}, error {self.abs_error:.3e}"
        )
        if not (np.isfinite(self.analytic) and np.isfinite(self.numeric)):
            side = "analytic" if not np.isfinite(self.analytic) else "numeric"
            lines[-1] += f" (the {side} gradient is not finite: a mismatch)"
        return "\n".join(lines)


def check_gradients(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> GradcheckReport:
    """Run the comparison and return a report (never raises for a mismatch). A NaN or an
    infinity in either gradient is a mismatch, reported as the worst element."""
    xs = [
        Tensor(np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64), True, "float64")
        for x in inputs
    ]
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    r = np.random.default_rng(seed).standard_normal(out.shape)

    def scalar(y: Tensor) -> Tensor:
        return y if y.numel() == 1 and y.ndim == 0 else (y * r).sum()

    scalar(out).backward()
    analytic = [x.grad.data if x.grad is not None else np.zeros(x.shape) for x in xs]

    worst = (0, (), 0.0, 0.0, -1.0, -np.inf)  # input, index, analytic, numeric, error, score
    per_input = []
    with no_grad():
        for i, x in enumerate(xs):
            numeric = np.zeros(x.shape)
            flat = x.data.reshape(-1)  # a view: writing it changes x
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                hi = scalar(fn(*xs)).item()
                flat[j] = old - eps
                lo = scalar(fn(*xs)).item()
                flat[j] = old
                numeric.reshape(-1)[j] = (hi - lo) / (2 * eps)
            err = np.abs(analytic[i] - numeric)
            per_input.append(float(err.max()) if err.size else 0.0)  # NaN if any is NaN
            if err.size:
                score = err / (atol + rtol * np.abs(numeric))  # > 1 means out of tolerance
                # A NaN or inf on either side is a mismatch, the worst there is: NaN never
                # compares greater than anything, so it must not reach the `>` below as NaN.
                bad = ~(np.isfinite(analytic[i]) & np.isfinite(numeric))
                score = np.where(bad, np.inf, score)
                j = int(np.argmax(score))
                if score.reshape(-1)[j] > worst[5]:
                    idx = np.unravel_index(j, x.shape)
                    worst = (
                        i,
                        tuple(int(k) for k in idx),
                        float(analytic[i][idx]),
                        float(numeric[idx]),
                        float(err[idx]),
                        float(score.reshape(-1)[j]),
                    )
    return GradcheckReport(
        ok=worst[5] <= 1.0,
        worst_input=worst[0],
        worst_index=worst[1],
        analytic=worst[2],
        numeric=worst[3],
        abs_error=worst[4] if np.isnan(worst[4]) else max(worst[4], 0.0),
        per_input_max_error=per_input,
        atol=atol,
        rtol=rtol,
    )


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True when fn's backward matches central finite differences on every input element.

    fn takes the inputs as float64 Tensors (copies of `inputs`, which may be arrays or
    Tensors) and returns a Tensor. Raises GradcheckError naming the worst element otherwise.
    """
    report = check_gradients(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if not report.ok:
        raise GradcheckError(str(report))
    return True
