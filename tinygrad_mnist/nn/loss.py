"""Module forms of the losses, as torch.nn: `nn.CrossEntropyLoss()(logits, labels)`.

Each one keeps its options and calls its namesake in nn.functional, where the math is.
"""

from __future__ import annotations

from typing import Any

from ..tensors.tensor import Tensor
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0)."""

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        F._check_reduction(reduction, "CrossEntropyLoss")
        self.weight, self.ignore_index = weight, ignore_index
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            logits, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(Module):
    """NLLLoss(weight=None, ignore_index=-100, reduction="mean") on log-probabilities."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        F._check_reduction(reduction, "NLLLoss")
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return F.nll_loss(log_probs, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(Module):
    """MSELoss(reduction="mean"): (pred - target)^2."""

    def __init__(self, reduction: str = "mean") -> None:
        F._check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return F.mse_loss(pred, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCELoss(Module):
    """BCELoss(weight=None, reduction="mean") on probabilities in [0, 1]."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        F._check_reduction(reduction, "BCELoss")
        self.weight, self.reduction = weight, reduction

    def forward(self, prob: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(prob, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """BCEWithLogitsLoss(weight=None, reduction="mean", pos_weight=None) on logits, stable."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        F._check_reduction(reduction, "BCEWithLogitsLoss")
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            logits, target, self.weight, self.reduction, self.pos_weight
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class L1Loss(Module):
    """L1Loss(reduction="mean"): |pred - target|."""

    def __init__(self, reduction: str = "mean") -> None:
        F._check_reduction(reduction, "L1Loss")
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return F.l1_loss(pred, target, self.reduction)


class SmoothL1Loss(Module):
    """SmoothL1Loss(reduction="mean", beta=1.0)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        F._check_reduction(reduction, "SmoothL1Loss")
        self.reduction, self.beta = reduction, beta

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(pred, target, self.reduction, self.beta)


class HuberLoss(Module):
    """HuberLoss(reduction="mean", delta=1.0)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        F._check_reduction(reduction, "HuberLoss")
        self.reduction, self.delta = reduction, delta

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return F.huber_loss(pred, target, self.reduction, self.delta)
