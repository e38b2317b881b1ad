"""Weight initialisations (fill a float array in place, from a NumPy random Generator).

kaiming_uniform:  U(-b, b), b = gain * sqrt(3 / fan_in), gain = sqrt(2) for ReLU (He et al.)
                  keeps the variance of ReLU activations steady from layer to layer.
xavier_uniform:   U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio),
                  made for tanh/sigmoid layers.
bias_uniform:     U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for Linear biases.
"""

from __future__ import annotations

import math

import numpy as np

GAINS = {"relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1 + 0.1**2)), "tanh": 5 / 3}


def gain(activation: str | None) -> float:
    return GAINS.get(activation or "", 1.0)


def kaiming_uniform_(w: np.ndarray, rng: np.random.Generator, activation: str = "relu") -> None:
    """w (fan_out, fan_in)."""
    bound = gain(activation) * math.sqrt(3.0 / w.shape[1])
    w[...] = rng.uniform(-bound, bound, w.shape)


def xavier_uniform_(w: np.ndarray, rng: np.random.Generator, activation: str | None = None) -> None:
    """w (fan_out, fan_in)."""
    bound = gain(activation) * math.sqrt(6.0 / (w.shape[0] + w.shape[1]))
    w[...] = rng.uniform(-bound, bound, w.shape)


def bias_uniform_(b: np.ndarray, fan_in: int, rng: np.random.Generator) -> None:
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    b[...] = rng.uniform(-bound, bound, b.shape)


INITS = {"kaiming": kaiming_uniform_, "xavier": xavier_uniform_}
