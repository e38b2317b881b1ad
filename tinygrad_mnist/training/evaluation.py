"""How good a model is on a data set: mean loss, accuracy overall and per digit, and the
confusion matrix. Evaluation runs under no_grad: no graph is recorded, nothing is learned."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn import MLP
from ..nn import functional as F
from ..tensors.tensor import Tensor
from .config import NUM_CLASSES


def evaluate_with_loss(
    model: MLP, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray]:
    """(mean cross-entropy, confusion [10, 10] int64) of `model` on x [N, 784], y [N].

    confusion[i, j] counts images of digit i predicted as j.
    """
    if len(x) == 0:
        raise ValueError("evaluate: no samples")
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    loss_sum = 0.0
    with no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            logits = model(Tensor(xb))
            loss_sum += F.cross_entropy(logits, yb).item() * len(yb)
            pred = logits.data.argmax(axis=1)
            confusion += np.bincount(
                yb * NUM_CLASSES + pred, minlength=NUM_CLASSES * NUM_CLASSES
            ).reshape(NUM_CLASSES, NUM_CLASSES)
    return loss_sum / len(x), confusion


def accuracies(confusion: np.ndarray) -> tuple[float, np.ndarray]:
    """(overall accuracy, per-class accuracy [10]; NaN for a digit with no images)."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / totals
    return float(np.trace(confusion) / confusion.sum()), per_class


def evaluate(
    model: MLP, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray, np.ndarray]:
    """(accuracy, per-class accuracy [10], confusion [10, 10] int) on x [N, 784], y [N]."""
    _, confusion = evaluate_with_loss(model, x, y, batch_size)
    accuracy, per_class = accuracies(confusion)
    return accuracy, per_class, confusion
