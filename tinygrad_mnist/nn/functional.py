"""Functional forms of the activations and losses (`import tinygrad_mnist.nn.functional as F`).

mse_loss(pred, target)             mean((pred - target)^2)
binary_cross_entropy(p, target)    mean(-(t log p + (1 - t) log(1 - p))), p clamped to [eps, 1-eps]
binary_cross_entropy_with_logits   the same from logits, computed stably
cross_entropy(logits, labels)      mean over the batch of -log softmax(logits)[label], fused
nll_loss(log_probs, labels)        mean over the batch of -log_probs[label]
l1_loss(pred, target)              mean(|pred - target|)
smooth_l1_loss(pred, target, beta) 0.5 d^2 / beta where |d| < beta, else |d| - beta / 2
huber_loss(pred, target, delta)    0.5 d^2 where |d| < delta, else delta (|d| - delta / 2)
dropout(x, p, training)            (nn/dropout.py); one_hot(labels, num_classes)
linear(x, w, b, activation)        act(x @ w^T + b) as one fused op
Every loss takes reduction= 'mean' (the default), 'sum' or 'none', as in torch; cross_entropy
and nll_loss also take weight= and ignore_index=, cross_entropy label_smoothing= and
probability targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends.interface import ACTIVATIONS  # the one list (C: enum tg_activation)
from ..dtypes import FLOAT_DTYPES
from ..ops.linear import FusedLinear
from ..ops.losses import BCEWithLogits, CrossEntropy
from ..tensors.tensor import Tensor
from .dropout import dropout  # noqa: F401 - F.dropout, as torch


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.1) -> Tensor:
    """x where x > 0, else negative_slope * x. The default slope is the course's 0.1
    (LeakyReLU = max(0.1x, x)); torch's default is 0.01: pass negative_slope=0.01 for it."""
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
        return FusedLinear.apply(x, weight, activation=act, slope=float(negative_slope))
    if bias.data.dtype is not weight.data.dtype:
        bias = bias.to(weight.dtype)
    return FusedLinear.apply(x, weight, bias, activation=act, slope=float(negative_slope))


REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, what: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{what}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str, what: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{what}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


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


def _class_weights(weight: Any, n_classes: int, dtype: np.dtype, what: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (n_classes,):
        raise ValueError(f"{what}: weight must have shape ({n_classes},), got {w.shape}")
    return w


def _fused_cross_entropy(
    logits: Tensor, labels: Any, weight: Any, ignore_index: int, reduction: str, smoothing: float
) -> Tensor | None:
    """The training loop's case, checked cheaply before anything else: float logits (B, C),
    int64 labels (B,) in a Tensor, no option. Then the loss is one fused op, whose kernel also
    checks that every label lies in [0, C). None when the case does not apply, or when a label
    lies outside [0, C) (it may be ignore_index): the general path then handles it."""
    if (
        weight is not None or reduction != "mean" or smoothing != 0 or type(labels) is not Tensor
        or type(logits) is not Tensor
    ):  # fmt: skip
        return None
    z, y = logits.data, labels.data
    if z.ndim != 2 or z.dtype not in FLOAT_DTYPES or y.dtype != np.int64 or y.shape != z.shape[:1]:
        return None
    if 0 <= ignore_index < z.shape[1]:  # an ignore_index that is a valid class: not this case
        return None
    try:
        return CrossEntropy.apply(logits, labels=y)
    except ValueError:  # a label outside [0, C)
        return None


def cross_entropy(
    logits: Tensor,
    labels: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits (N, C) or (N, C, d...) against labels, as torch's.

    labels are class indices (N,) / (N, d...), or probabilities of the logits' shape (soft
    targets). `weight` (C,) weighs each class; labels equal to `ignore_index` count for
    nothing; `label_smoothing` mixes the target with the uniform distribution. With none of
    the options it is one fused op (one backend pass forward, dz = (softmax(z) - onehot) / N).
    """
    fused = _fused_cross_entropy(logits, labels, weight, ignore_index, reduction, label_smoothing)
    if fused is not None:
        return fused
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = logits._float()
    if logits.ndim == 1:  # one sample of C logits
        target = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
        if target.dtype.kind == "f" and target.shape == logits.shape:
            t = labels if isinstance(labels, Tensor) else Tensor(labels, dtype=logits.dtype)
            one = t.unsqueeze(0)
        else:
            one = _labels(labels).reshape(1)
        out = cross_entropy(
            logits.unsqueeze(0), one, weight, ignore_index, reduction, label_smoothing
        )
        return out.reshape(()) if reduction == "none" else out
    if logits.ndim < 2:
        raise ValueError(
            f"cross_entropy: logits must be (N, C) or (N, C, d...), got {logits.shape}"
        )
    n_classes = logits.shape[1]
    w = _class_weights(weight, n_classes, logits.dtype, "cross_entropy")
    target = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if target.dtype.kind == "f" and target.shape == logits.shape:  # probabilities
        return _soft_cross_entropy(logits, labels, w, reduction, label_smoothing)
    y = _labels(labels)
    if (
        w is None and reduction == "mean" and label_smoothing == 0 and logits.ndim == 2
        and not np.any(y == ignore_index)
    ):  # fmt: skip
        return CrossEntropy.apply(logits, labels=y)
    logp = logits.log_softmax(1)
    nll = nll_loss(logp, y, w, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    # torch's smoothing term: -sum_c w_c logp_c per sample, normalised like the nll term
    keep = y != ignore_index
    shape = [1] * logp.ndim
    shape[1] = n_classes
    lp = logp if w is None else logp * w.reshape(shape)
    smooth = -(lp.sum(1) * keep.astype(logp.dtype))
    if reduction == "mean":
        denom = float(w[y[keep]].sum()) if w is not None else float(keep.sum())
        smooth = smooth.sum() * (1.0 / denom if denom else float("nan"))
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(
    logits: Tensor, target: Any, w: np.ndarray | None, reduction: str, smoothing: float
) -> Tensor:
    """-sum_c w_c t_c log softmax(z)_c per sample: cross-entropy against probabilities."""
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=logits.dtype)
    t = t.to(logits.dtype)
    n_classes = logits.shape[1]
    if smoothing:
        t = t * (1 - smoothing) + smoothing / n_classes
    prod = logits.log_softmax(1) * t
    if w is not None:
        shape = [1] * logits.ndim
        shape[1] = n_classes
        prod = prod * w.reshape(shape)
    per_sample = -prod.sum(1)
    return _reduce(per_sample, reduction, "cross_entropy")


def nll_loss(
    log_probs: Tensor,
    labels: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d...) at labels (N, d...).

    Per sample: -w[y] log_probs[y] (0 where y == ignore_index). 'mean' divides the sum by the
    total weight of the counted samples, as torch does (by their number without `weight`).
    The pick is a gather (x[rows, labels]); its backward is a scatter-add.
    """
    _check_reduction(reduction, "nll_loss")
    x = log_probs._float()
    y = _labels(labels)
    if x.ndim == 1:
        return nll_loss(x.unsqueeze(0), y.reshape(1), weight, ignore_index, reduction).reshape(())
    if x.ndim < 2:
        raise ValueError(f"nll_loss: log_probs must be (N, C) or (N, C, d...), got {x.shape}")
    n_classes = x.shape[1]
    want = (x.shape[0],) + x.shape[2:]
    if y.shape != want:
        raise ValueError(
            f"nll_loss: labels must have shape {want} for input {x.shape}, got {y.shape}"
        )
    keep = y != ignore_index
    if np.any(keep & ((y < 0) | (y >= n_classes))):
        bad = y[keep & ((y < 0) | (y >= n_classes))].flat[0]
        raise ValueError(f"nll_loss: labels must lie in [0, {n_classes}), got {bad}")
    w = _class_weights(weight, n_classes, x.dtype, "nll_loss")
    safe = np.where(keep, y, 0).reshape(-1)
    # (N, C, d...) -> rows of C: the class axis last, everything else flattened
    rows = x if x.ndim == 2 else x.permute(0, *range(2, x.ndim), 1).reshape(-1, n_classes)
    picked = rows[np.arange(safe.size), safe]
    scale = keep.reshape(-1).astype(x.dtype)
    if w is not None:
        scale = scale * w[safe]
    per_sample = (-(picked * scale)).reshape(*want)
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    if reduction == "sum":
        return total
    denom = float(scale.sum())
    return total * (1.0 / denom if denom else float("nan"))


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)^2, averaged ('mean'), summed ('sum') or per element ('none')."""
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=pred.dtype)
    if t.shape != pred.shape:
        raise ValueError(f"mse_loss: pred shape {pred.shape} != target shape {t.shape}")
    _check_reduction(reduction, "mse_loss")
    return _reduce((pred - t) ** 2, reduction, "mse_loss")


def binary_cross_entropy(
    prob: Tensor, target: Any, weight: Any = None, reduction: str = "mean", eps: float = 1e-7
) -> Tensor:
    """-w (t log p + (1 - t) log(1 - p)) per element, then the reduction.

    p is clamped to [eps, 1 - eps] first so that log never sees 0 (PyTorch clamps the log
    at -100 instead; the effect is the same: a finite loss for a confident wrong answer).
    """
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=prob.dtype)
    if t.shape != prob.shape:
        raise ValueError(f"binary_cross_entropy: prob shape {prob.shape} != target shape {t.shape}")
    if np.any((prob.data < 0) | (prob.data > 1)):
        raise ValueError("binary_cross_entropy: prob must lie in [0, 1] (apply sigmoid first)")
    _check_reduction(reduction, "binary_cross_entropy")
    p = prob.clamp(eps, 1 - eps)
    loss = -(t * p.log() + (1 - t) * (1 - p).log())
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """binary_cross_entropy(sigmoid(z), t) computed stably from the logits z, as torch's:

    per element  -w [pw t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))], where
    log sigmoid(z) = -softplus(-z) never overflows. pos_weight pw weighs the positives.
    """
    z = logits._float()
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=z.dtype)
    if t.shape != z.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits shape {z.shape} != target shape {t.shape}"
        )
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    z, t = z._pair(t)
    if pos_weight is None:
        loss = BCEWithLogits.apply(z, t)
    else:
        pw = pos_weight if isinstance(pos_weight, Tensor) else Tensor(pos_weight, dtype=z.dtype)
        loss = BCEWithLogits.apply(z, t, pw.to(z.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _difference(pred: Tensor, target: Any, what: str) -> Tensor:
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=pred.dtype)
    if t.shape != pred.shape:
        raise ValueError(f"{what}: pred shape {pred.shape} != target shape {t.shape}")
    return pred - t


def l1_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|pred - target|, then the reduction."""
    _check_reduction(reduction, "l1_loss")
    return _reduce(_difference(pred, target, "l1_loss").abs(), reduction, "l1_loss")


def smooth_l1_loss(pred: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: the L1 loss)."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    d = _difference(pred, target, "smooth_l1_loss")
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    loss = (d * d * (0.5 / beta)).where(a < beta, a - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(pred: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1 times delta."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    d = _difference(pred, target, "huber_loss")
    a = d.abs()
    loss = (d * d * 0.5).where(a < delta, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction, "huber_loss")


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """(N, ...) int64 labels -> (N, ..., num_classes) int64 with a 1 at each label."""
    y = _labels(labels)
    n = int(y.max()) + 1 if num_classes < 0 else num_classes
    if y.size and (y.min() < 0 or y.max() >= n):
        raise ValueError(f"one_hot: labels must lie in [0, {n})")
    return Tensor(np.eye(n, dtype=np.int64)[y], dtype=np.int64)
