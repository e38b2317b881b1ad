"""Weight initialisations.

Two kinds live here. torch's nn.init functions fill a Tensor in place (under no_grad) and
return it, drawing from the default generator (or `generator=`):
    uniform_, normal_, constant_, zeros_, ones_, eye_, xavier_uniform_, xavier_normal_,
    kaiming_uniform_, kaiming_normal_, trunc_normal_, calculate_gain
and the course's named recipes fill a NumPy array from a NumPy Generator (`INITS`, which
MLP and `tinygrad-mnist train --init` use):
    "kaiming":  U(-b, b), b = gain * sqrt(3 / fan_in), gain = sqrt(2) for ReLU (He et al.)
                keeps the variance of ReLU activations steady from layer to layer.
    "xavier":   U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio),
                made for tanh/sigmoid layers.
bias_uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's default for Linear biases.
torch's default for a Linear weight is kaiming_uniform_ with a = sqrt(5), which works out to
the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn/linear.py uses it when no init is named).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensors.random import Generator, rng_of
from ..tensors.tensor import Tensor

GAINS = {"relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1 + 0.1**2)), "tanh": 5 / 3}


def gain(activation: str | None) -> float:
    """The course's gain for an activation (its LeakyReLU slope is 0.1)."""
    return GAINS.get(activation or "", 1.0)


# ---------------------------------------------------------------- the course's named recipes
def he_uniform_array(w: np.ndarray, rng: np.random.Generator, activation: str = "relu") -> None:
    """w (fan_out, fan_in)."""
    bound = gain(activation) * math.sqrt(3.0 / w.shape[1])
    w[...] = rng.uniform(-bound, bound, w.shape)


def glorot_uniform_array(
    w: np.ndarray, rng: np.random.Generator, activation: str | None = None
) -> None:
    """w (fan_out, fan_in)."""
    bound = gain(activation) * math.sqrt(6.0 / (w.shape[0] + w.shape[1]))
    w[...] = rng.uniform(-bound, bound, w.shape)


def bias_uniform_array(b: np.ndarray, fan_in: int, rng: np.random.Generator) -> None:
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    b[...] = rng.uniform(-bound, bound, b.shape)


INITS = {"kaiming": he_uniform_array, "xavier": glorot_uniform_array}


# ---------------------------------------------------------------- torch.nn.init
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch's recommended gain: 1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope 0.01 unless given), 3/4 for selu."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(t: Tensor) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with >= 2 dims, got {t.shape}")
    field = math.prod(t.shape[2:])
    return t.shape[1] * field, t.shape[0] * field


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    with no_grad():
        t.copy_(values)
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None):
    return _fill(t, rng_of(generator).uniform(a, b, t.shape))


def normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    return _fill(t, mean + std * rng_of(generator).standard_normal(t.shape))


def trunc_normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:  # fmt: skip
    """Normal values redrawn until they fall in [a, b]."""
    rng = rng_of(generator)
    out = mean + std * rng.standard_normal(t.shape)
    bad = (out < a) | (out > b)
    while np.any(bad):
        out[bad] = mean + std * rng.standard_normal(int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(t, out)


def constant_(t: Tensor, val: float) -> Tensor:
    return _fill(t, np.full(t.shape, val))


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def eye_(t: Tensor) -> Tensor:
    if t.ndim != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got {t.shape}")
    return _fill(t, np.eye(*t.shape))


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator: Generator | None = None):
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator: Generator | None = None):
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:  # fmt: skip
    """U(-b, b), b = gain * sqrt(3 / fan), with torch's defaults (leaky_relu gain, slope a)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:  # fmt: skip
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), generator)
