"""A ReLU MLP in plain NumPy, forward, backward and optimizer written out by hand.

The floor for our NumPy backend in benchmarks/bench_train.py (contender `numpy_by_hand`): the
gap between the two is what autograd costs. tests/test_bench.py checks that its gradients and
updates are our library's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class HandwrittenMLP:
    """A ReLU MLP in plain NumPy: forward, backward and optimizer written out by hand.

    No autograd, no graph, no Tensor objects: the fastest straightforward NumPy for one
    training step, used as the floor for our NumPy backend. weights[i] is (out, in) and
    biases[i] is (out,), as in nn.Linear. Scratch arrays are reused between steps of the
    same batch size.
    """

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        self.weights = [np.array(w, dtype=np.float32) for w in weights]
        self.biases = [np.array(b, dtype=np.float32) for b in biases]
        params = self.weights + self.biases
        self.momentum_buffers = [np.zeros_like(p) for p in params]  # SGD
        self.adam_m = [np.zeros_like(p) for p in params]
        self.adam_v = [np.zeros_like(p) for p in params]
        self.adam_t = 0
        self.grad_weights = [np.empty_like(w) for w in self.weights]
        self.grad_biases = [np.empty_like(b) for b in self.biases]
        self._scratch: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    @classmethod
    def random(cls, sizes: Sequence[int], seed: int = 0) -> HandwrittenMLP:
        """He-uniform weights, zero biases (the values do not matter for speed)."""
        rng = np.random.default_rng(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = math.sqrt(6.0 / n_in)
            weights.append(rng.uniform(-bound, bound, (n_out, n_in)))
            biases.append(np.zeros(n_out))
        return cls(weights, biases)

    def _buffers(self, batch: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(outputs of every layer, gradients w.r.t. them), allocated once per batch size."""
        if batch not in self._scratch:
            outs = [np.empty((batch, w.shape[0]), np.float32) for w in self.weights]
            grads = [np.empty_like(o) for o in outs]
            self._scratch[batch] = (outs, grads)
        return self._scratch[batch]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits (B, classes); the hidden outputs stay in the scratch arrays for backward."""
        outs, _ = self._buffers(len(x))
        h = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = np.matmul(h, w.T, out=outs[i])
            z += b
            if i < len(self.weights) - 1:
                np.maximum(z, 0.0, out=z)  # ReLU in place
            h = z
        return h

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of the batch; fills grad_weights and grad_biases."""
        outs, grads = self._buffers(len(x))
        logits = self.forward(x)
        batch = len(x)
        # softmax cross-entropy: dlogits = (softmax - onehot) / B
        d = grads[-1]
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=d)
        np.exp(d, out=d)
        d /= d.sum(axis=1, keepdims=True)
        rows = np.arange(batch)
        loss = -float(np.log(np.maximum(d[rows, y], 1e-30)).mean())
        d[rows, y] -= 1.0
        d /= batch
        for i in range(len(self.weights) - 1, -1, -1):
            dz = grads[i]  # gradient w.r.t. layer i's pre-activation (ReLU already applied)
            h_in = x if i == 0 else outs[i - 1]
            np.matmul(dz.T, h_in, out=self.grad_weights[i])
            np.sum(dz, axis=0, out=self.grad_biases[i])
            if i > 0:
                dh = np.matmul(dz, self.weights[i], out=grads[i - 1])
                dh *= outs[i - 1] > 0  # ReLU backward: its output is > 0 where it passed
        return loss

    def _params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(zip(self.weights + self.biases, self.grad_weights + self.grad_biases))

    def sgd_step(self, lr: float, momentum: float = 0.0) -> None:
        """PyTorch's SGD: buf = momentum * buf + g; p -= lr * buf."""
        for (p, g), buf in zip(self._params_and_grads(), self.momentum_buffers):
            if momentum:
                buf *= momentum
                buf += g
                g = buf
            p -= lr * g

    def adam_step(
        self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        """PyTorch's Adam (no weight decay)."""
        self.adam_t += 1
        c1 = 1.0 - beta1**self.adam_t
        c2 = 1.0 - beta2**self.adam_t
        for (p, g), m, v in zip(self._params_and_grads(), self.adam_m, self.adam_v):
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * (g * g)
            denom = np.sqrt(v / c2)
            denom += eps
            p -= (lr / c1) * m / denom
