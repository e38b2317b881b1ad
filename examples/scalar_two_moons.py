"""Train a scalar-Value MLP to separate two interleaving half moons (2-D points, 2 classes).

Run:  python examples/scalar_two_moons.py [--steps 30] [--seed 0]
The loss is micrograd's demo loss: the SVM max-margin hinge relu(1 - y * score), averaged,
plus a little L2 weight decay. Labels are -1 and +1, and the sign of the score is the class.
"""

import argparse
import math
import random

from tinygrad_mnist.scalar_nn import MLP


def two_moons(n: int, noise: float, rng: random.Random) -> tuple[list, list]:
    """n points: the upper half circle (label -1) and a lower one shifted right (label +1)."""
    xs, ys = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1.0
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), 1.0
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(label)
    return xs, ys


def loss_and_accuracy(model: MLP, xs: list, ys: list, alpha: float = 1e-4) -> tuple:
    scores = [model(x) for x in xs]
    # Hinge: no loss once a point is on the right side with margin >= 1.
    hinge = sum((1 - y * s).relu() for y, s in zip(ys, scores)) * (1.0 / len(xs))
    decay = alpha * sum(p * p for p in model.parameters())
    accuracy = sum((s.data > 0) == (y > 0) for y, s in zip(ys, scores)) / len(xs)
    return hinge + decay, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="gradient descent steps")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")
    args = parser.parse_args()

    xs, ys = two_moons(100, noise=0.1, rng=random.Random(args.seed))
    model = MLP(2, [8, 8, 1], seed=args.seed)  # 2 inputs -> one score
    print(f"MLP 2-8-8-1 with {len(model.parameters())} parameters, {len(xs)} points")
    for step in range(args.steps):
        loss, accuracy = loss_and_accuracy(model, xs, ys)
        model.zero_grad()
        loss.backward()
        learning_rate = 1.0 - 0.9 * step / args.steps  # decay: big steps first, fine later
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        if step % 5 == 0 or step == args.steps - 1:
            print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
    loss, accuracy = loss_and_accuracy(model, xs, ys)
    print(f"final     loss {loss.data:.4f}  accuracy {accuracy:.0%}")


if __name__ == "__main__":
    main()
