"""The same model, trained the same way, on the NumPy and the C backend.

Both start from the same weights and see the same batches, so their losses must agree to
float32 rounding; the only difference should be the speed.

Run: python examples/compare_backends.py [--steps 200] [--data-dir DIR]
(MNIST is found as for `tinygrad-mnist train`: --data-dir, $TINYGRAD_MNIST_DATA, the cache.)
"""

import argparse
import time

import numpy as np

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import nn, optim
from tinygrad_mnist.data import DataLoader, load_mnist_arrays

parser = argparse.ArgumentParser(description="Train one MLP on each backend and compare.")
parser.add_argument("--steps", type=int, default=200, help="training steps per backend")
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
args = parser.parse_args()

x, y = load_mnist_arrays("train", args.data_dir)


def run(backend: str) -> tuple[list[float], float]:
    """Train on `backend`; return the loss of every step and the samples per second."""
    with tg.backend(backend):
        model = nn.MLP([784, 128, 64, 10], seed=0)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = DataLoader(x, y, batch_size=args.batch_size, shuffle=True, seed=0)
        losses: list[float] = []
        start = time.perf_counter()
        while len(losses) < args.steps:
            for xb, yb in loader:
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
                if len(losses) == args.steps:
                    break
        return losses, args.steps * args.batch_size / (time.perf_counter() - start)


results = {name: run(name) for name in tg.backends.available()}
for name, (losses, speed) in results.items():
    picks = " ".join(f"{losses[i]:.4f}" for i in range(0, len(losses), max(len(losses) // 5, 1)))
    print(
        f"{name:>6}: loss at every {max(len(losses) // 5, 1)} steps: {picks}   {speed:,.0f} samples/s"
    )
if len(results) == 2:
    a, b = (np.array(results[n][0]) for n in ("numpy", "c"))
    diff = np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-6))
    print(f"largest relative loss difference over {args.steps} steps: {diff:.2e}")
    print(f"C is {results['c'][1] / results['numpy'][1]:.1f}x the speed of NumPy")
    # float32 rounding differs between the two (summation order), and training amplifies it
    # slowly; over a few hundred steps it stays far below 1%.
    assert diff < 1e-2, "the backends disagree beyond float32 rounding"
