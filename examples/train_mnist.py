"""Train an MLP on MNIST with the public API only: what `tinygrad-mnist train` does, in short.

Run: python examples/train_mnist.py [--epochs 3] [--data-dir DIR]
(MNIST is found as for `tinygrad-mnist train`: --data-dir, $TINYGRAD_MNIST_DATA, the cache.)
"""

import argparse

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, no_grad
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.optim import SGD, CosineLR
from tinygrad_mnist.utils.data import DataLoader, load_mnist_arrays

parser = argparse.ArgumentParser(description="Train a 784-256-128-10 MLP on MNIST.")
parser.add_argument("--epochs", type=int, default=3, help="passes over the training set")
parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
args = parser.parse_args()

x_train, y_train = load_mnist_arrays("train", args.data_dir)  # x [60000, 784], y [60000]
x_test, y_test = load_mnist_arrays("test", args.data_dir)  # x [10000, 784], y [10000]
loader = DataLoader(x_train, y_train, batch_size=128, shuffle=True, seed=0)

model = MLP([784, 256, 128, 10], activation="relu", seed=0)
opt = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
schedule = CosineLR(opt, total_steps=args.epochs * len(loader))  # lr decays every batch

for epoch in range(1, args.epochs + 1):
    total = 0.0
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)  # logits [128, 10] vs labels [128]
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        total += loss.item()
    with no_grad():  # evaluation needs no graph
        predicted = model(Tensor(x_test)).data.argmax(axis=1)
    accuracy = (predicted == y_test).mean()
    print(f"epoch {epoch}  train loss {total / len(loader):.4f}  test accuracy {accuracy:.2%}")
