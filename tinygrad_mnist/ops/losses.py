"""Losses over integer class labels (MSE and BCE are built from other ops in nn.functional).

cross_entropy(z, t) = mean over the batch of -log softmax(z)[t], fused:
    forward and its gradient come from one backend pass, dz = (softmax(z) - onehot(t)) / B,
    so backward only scales that by the incoming (scalar) gradient.
nll_loss(lp, t) = mean over the batch of -lp[t]:  d lp = -onehot(t) / B.
"""

from __future__ import annotations

import numpy as np

from ..backends.interface import check_labels
from ..function import Function


class CrossEntropy(Function):
    def forward(self, logits: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        loss, self.saved = self.be.cross_entropy(logits, labels)
        return loss

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(self.saved, g),)


class NLLLoss(Function):
    def forward(self, logp: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        check_labels(labels, logp.shape)
        rows = np.arange(logp.shape[0])
        self.saved = (logp.shape, logp.dtype, rows, labels)
        return np.asarray(-logp[rows, labels].sum() / max(logp.shape[0], 1), dtype=logp.dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        shape, dtype, rows, labels = self.saved
        d = np.zeros(shape, dtype=dtype)
        d[rows, labels] = -g / max(shape[0], 1)
        return (d,)
