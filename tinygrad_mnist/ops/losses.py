"""Losses over integer class labels (MSE and BCE are built from other ops in nn.functional).

cross_entropy(z, t) = mean over the batch of -log softmax(z)[t], fused:
    forward and its gradient come from one backend pass, dz = (softmax(z) - onehot(t)) / B,
    so backward only scales that by the incoming (scalar) gradient.
nll_loss and the loss options (weight, ignore_index, label smoothing, soft targets) are built
from other ops in nn.functional; binary cross-entropy from logits is one op here, stable.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast


class CrossEntropy(Function):
    formula = ("(softmax({a}) − onehot(target)) / batch",)

    def forward(self, logits: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        loss, self.saved = self.be.cross_entropy(logits, labels)
        return loss

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (self.be.mul(self.saved, float(g)),)  # the loss is 0-d: g is one number


class BCEWithLogits(Function):
    """Per element: l = (1 - t) z + (1 + (pw - 1) t) softplus(-z),  softplus(u) = log(1 + e^u).

    That is -[pw t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))], rearranged so that nothing
    overflows: softplus(-z) = max(-z, 0) + log(1 + e^-|z|). (pw = 1 without pos_weight.)
        dz = sigmoid(z) (pw t + 1 - t) - pw t
        dt = -z + (pw - 1) softplus(-z)          (the target may need a gradient too)
        dpw = t softplus(-z)
    """

    formula = ("(σ({a}) − {b}) / n", "−{a} / n")

    def forward(self, z: np.ndarray, t: np.ndarray, pw: np.ndarray | None = None) -> np.ndarray:
        be = self.be
        sp = be.add(be.relu(be.neg(z)), be.log(be.add(be.exp(be.neg(np.abs(z))), 1.0)))
        w = be.add(be.mul(be.sub(pw, 1.0), t), 1.0) if pw is not None else None
        loss = be.add(be.mul(be.sub(1.0, t), z), sp if w is None else be.mul(w, sp))
        self.saved = (z, t, pw, sp)
        return loss

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        z, t, pw, sp = self.saved
        be = self.be
        s = be.sigmoid(z)
        if pw is None:
            dz = be.mul(g, be.sub(s, t))
            dt = be.mul(g, be.neg(z)) if self.needs_grad[1] else None
            return dz, dt
        pwt = be.mul(pw, t)
        dz = be.mul(g, be.sub(be.mul(s, be.add(be.sub(pwt, t), 1.0)), pwt))
        dt = None
        if self.needs_grad[1]:
            dt = be.mul(g, be.add(be.neg(z), be.mul(be.sub(pw, 1.0), sp)))
        dpw = None
        if self.needs_grad[2]:
            dpw = unbroadcast(be, be.mul(g, be.mul(t, sp)), pw.shape)
        return dz, dt, dpw
