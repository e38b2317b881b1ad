"""Functional forms of the activations and losses (`import tinygrad_mnist.nn.functional as F`).

mse_loss(pred, target)             mean((pred - target)^2)
binary_cross_entropy(p, target)    mean(-(t log p + (1 - t) log(1 - p))), p clamped to [eps, 1-eps]
cross_entropy(logits, labels)      mean over the batch of -log softmax(logits)[label], fused
nll_loss(log_probs, labels)        mean over the batch of -log_probs[label]
linear(x, w, b, activation)        act(x @ w^T + b) as one fused op
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends.numpy_backend import ACTIVATIONS  # the one list (C: enum tg_activation)
from ..ops.linear import Linear
from ..ops.losses import CrossEntropy, NLLLoss
from ..tensor import Tensor


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.1) -> Tensor:
    return x.leaky_relu(negative_slope)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return x.log_softmax(dim)


def linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    activation: str | None = None,
    negative_slope: float = 0.1,
) -> Tensor:
    """act(x @ weight^T + bias): x (B, in), weight (out, in), bias (out,) -> (B, out).

    One fused op: the backend computes the product, the bias and the activation in one call
    forward and one call backward. `activation` is None/"none", "relu", "sigmoid", "tanh" or
    "leaky_relu" (whose fused backward needs negative_slope > 0).
    """
    act = activation or "none"
    if act not in ACTIVATIONS:
        raise ValueError(
            f"linear: unknown activation {activation!r}; expected one of {ACTIVATIONS}"
        )
    xd, wd = x.data, weight.data  # (arrays: cheaper to inspect than the Tensor properties)
    if xd.ndim != 2 or wd.ndim != 2 or xd.shape[1] != wd.shape[1]:
        raise ValueError(
            f"linear: need x (B, in) and weight (out, in), got {xd.shape} and {wd.shape}"
        )
    if bias is not None and bias.data.shape != (wd.shape[0],):
        raise ValueError(f"linear: bias must have shape ({wd.shape[0]},), got {bias.shape}")
    if act == "leaky_relu" and negative_slope <= 0:  # the fused backward reads the sign of y
        return linear(x, weight, bias).leaky_relu(negative_slope)
    if xd.dtype is not wd.dtype or xd.dtype.kind != "f":
        x, weight = x._pair(weight)
    if bias is None:
        return Linear.apply(x, weight, activation=act, slope=float(negative_slope))
    if bias.data.dtype is not weight.data.dtype:
        bias = bias.to(weight.dtype)
    return Linear.apply(x, weight, bias, activation=act, slope=float(negative_slope))


def _labels(labels: Any) -> np.ndarray:
    """Class labels as an int64 array; float labels must be whole numbers."""
    arr = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if arr.dtype.kind == "f":
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError("labels must be whole numbers (class indices)")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class indices, got dtype {arr.dtype}")
    if arr.size and arr.dtype.kind in "fu" and not -(2**63) <= arr.min() <= arr.max() < 2**63:
        bad = arr.max() if arr.max() >= 2**63 else arr.min()  # would wrap in int64: say it now
        raise ValueError(f"labels must be class indices, got {bad}")
    return arr.astype(np.int64, copy=False)


def cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Mean cross-entropy of logits (B, C) against integer labels (B,): a 0-d Tensor."""
    return CrossEntropy.apply(logits._float(), labels=_labels(labels))


def nll_loss(log_probs: Tensor, labels: Any) -> Tensor:
    """Mean negative log-likelihood of log-probabilities (B, C) at labels (B,)."""
    return NLLLoss.apply(log_probs._float(), labels=_labels(labels))


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean squared error over all elements; pred and target must have the same shape."""
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=pred.dtype)
    if t.shape != pred.shape:
        raise ValueError(f"mse_loss: pred shape {pred.shape} != target shape {t.shape}")
    return ((pred - t) ** 2).mean()


def binary_cross_entropy(prob: Tensor, target: Any, eps: float = 1e-7) -> Tensor:
    """Mean over all elements of -(t log p + (1 - t) log(1 - p)).

    p is clamped to [eps, 1 - eps] first so that log never sees 0 (PyTorch clamps the log
    at -100 instead; the effect is the same: a finite loss for a confident wrong answer).
    """
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=prob.dtype)
    if t.shape != prob.shape:
        raise ValueError(f"binary_cross_entropy: prob shape {prob.shape} != target shape {t.shape}")
    if np.any((prob.data < 0) | (prob.data > 1)):
        raise ValueError("binary_cross_entropy: prob must lie in [0, 1] (apply sigmoid first)")
    p = prob.clamp(eps, 1 - eps)
    return -(t * p.log() + (1 - t) * (1 - p).log()).mean()
