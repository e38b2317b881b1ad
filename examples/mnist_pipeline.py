"""MNIST the way the course lists it: collect -> transform -> train -> test.

collect    the four IDX files (uint8 images [N, 28, 28], labels [N]), read by load_idx
transform  pixels p in [0, 255] -> p / 255 * 2 - 1 in [-1, 1]; each 28 x 28 image -> 784 row
train      a 784-64-10 sigmoid MLP, cross-entropy, SGD with momentum, a few mini-batch epochs
test       accuracy on the 10,000 test images the model never saw

Run: python examples/mnist_pipeline.py [--epochs 1] [--data-dir DIR]
(MNIST is found as for `tinygrad-mnist train`: --data-dir, $TINYGRAD_MNIST_DATA, the cache.)
"""

import argparse

import numpy as np

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, no_grad
from tinygrad_mnist.digit_render import render_digit
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.optim import SGD
from tinygrad_mnist.utils.data import DataLoader, flatten, load_idx, locate_mnist, normalize

parser = argparse.ArgumentParser(description="collect -> transform -> train -> test on MNIST")
parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
args = parser.parse_args()

# 1. collect: IDX files hold a typed n-dimensional array behind a small header
data = {}
for split in ("train", "test"):
    image_path, label_path = locate_mnist(split, args.data_dir)
    data[split] = load_idx(image_path), load_idx(label_path)
    print(
        f"collect   {split:5s}: images {data[split][0].shape} {data[split][0].dtype}, "
        f"labels {data[split][1].shape}  from {image_path.name}"
    )

# 2. transform: one digit before and after
images, labels = data["train"]
print(f"\nthe first training image, label {labels[0]}:")
print(render_digit(images[0]))
x0 = normalize(images[:1])
print(
    f"transform pixels {images[0].min()}..{images[0].max()} (uint8) -> "
    f"{x0.min():.1f}..{x0.max():.1f} (float32); p = 0 -> -1, p = 255 -> +1"
)
print(f"flatten   {x0.shape} -> {flatten(x0).shape}: row r, column c -> index 28 r + c")
x_train, y_train = flatten(normalize(images)), labels.astype(np.int64)
x_test, y_test = flatten(normalize(data["test"][0])), data["test"][1].astype(np.int64)

# 3. train
model = MLP([784, 64, 10], activation="sigmoid", seed=0)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = DataLoader(x_train, y_train, batch_size=64, shuffle=True, seed=0)
print(f"\ntrain     {model}")
for epoch in range(1, args.epochs + 1):
    total = 0.0
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    print(f"epoch {epoch}: mean training loss {total / len(loader):.4f}")

# 4. test
with no_grad():
    predicted = model(Tensor(x_test)).data.argmax(axis=1)
print(f"\ntest      accuracy {(predicted == y_test).mean():.2%} on {len(y_test)} unseen images")
