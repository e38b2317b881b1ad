"""The NumPy and the C backend on one MLP: what must agree, what may drift, and how fast.

1. Must agree: from the same weights and batch, the loss and every gradient, to float32
   rounding. Checked at each step of a short run (both backends see the C run's weights).
2. May drift: two training runs, one per backend, from the same start. Float32 rounding
   differs a little (the GEMMs add in another order), and training amplifies a difference
   step after step, chaotically, so the curves part while both go down. Not a bug.

Run: python examples/compare_backends.py [--steps 300] [--data-dir DIR]  (MNIST: as for `train`)
"""

import argparse
import time

import numpy as np

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import nn, optim
from tinygrad_mnist.utils.data import DataLoader, load_mnist_arrays

parser = argparse.ArgumentParser(description="Compare the NumPy and C backends on one MLP.")
parser.add_argument("--steps", type=int, default=300, help="training steps per backend")
parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
args = parser.parse_args()
x, y = load_mnist_arrays("train", args.data_dir)
loader = DataLoader(x, y, batch_size=128, shuffle=True, seed=0)
batches = [batch for batch, _ in zip(loader, range(args.steps))]  # the same for every run


def setup() -> tuple[nn.MLP, optim.SGD]:  # the same start for every run
    model = nn.MLP([784, 128, 64, 10], seed=0)
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def loss_and_grads(model: nn.MLP, xb, yb, backend: str) -> list:
    """[loss, grad of each parameter] at the model's current weights, on `backend`."""
    with tg.backend(backend):
        model.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
    return [loss.item()] + [p.grad.numpy().copy() for p in model.parameters()]


def train(backend: str) -> tuple[list[float], float]:  # loss of every step, samples/s
    model, opt = setup()
    losses, start = [], time.perf_counter()
    with tg.backend(backend):
        for xb, yb in batches:
            losses.append(loss_and_grads(model, xb, yb, backend)[0])
            opt.step()
    return losses, len(batches) * 128 / (time.perf_counter() - start)


try:
    tg.backends.load("c")
except tg.backends.BackendUnavailableError as e:
    losses, speed = train("numpy")
    print(f"{e}; comparing the backends needs it.")
    print(f"numpy alone: {speed:,.0f} samples/s, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    raise SystemExit(0) from None

# 1. Same weights, same batch: the numbers must agree (norm-wise, relative to the largest).
(model, opt), worst = setup(), 0.0
for xb, yb in batches[:20]:
    ref = loss_and_grads(model, xb, yb, "numpy")
    got = loss_and_grads(model, xb, yb, "c")  # leaves C's gradients in the model for the step
    worst = max(worst, *(np.abs(c - n).max() / np.abs(n).max() for c, n in zip(got, ref)))
    opt.step()
print(f"same weights, 20 steps: loss and gradients differ by at most {worst:.1e}")
assert worst < 1e-4, "the backends disagree beyond float32 rounding at the same weights"

# 2. Independent training runs: expected to drift apart, both learning. 3. Their speed.
curves = {name: train(name) for name in ("numpy", "c")}
a, b = (np.array(curves[name][0]) for name in ("numpy", "c"))
print("\nstep  numpy loss  c loss  difference   (two separate runs: rounding differences grow)")
for i in list(range(0, args.steps, max(args.steps // 6, 1))) + [args.steps - 1]:
    print(f"{i:4d}  {a[i]:10.4f}  {b[i]:6.4f}  {b[i] - a[i]:+10.1e}")
assert max(np.mean(a[-10:]), np.mean(b[-10:])) < 0.5 * a[0], "a training run did not learn"
print(f"speed: numpy {curves['numpy'][1]:,.0f}, C {curves['c'][1]:,.0f} samples/s (training)")
