"""The course's worked example: a forward pass through three layers, by hand-sized tensors.

x = [1.5, 2.5, 3]; layer 1 and 2 have 3 units, layer 3 has 2. Every W1 weight is 0.05, every
W2 weight 0.025, every W3 weight 1.0; b1 = b2 = [0.01, 0.02, 0.03], b3 = [0.01, 0.02].
    a1 = x W1 + b1,  h1 = sigmoid(a1)
    a2 = h1 W2 + b2, h2 = sigmoid(a2)
    a3 = h2 W3 + b3, h3 = softmax(a3)
    loss = binary cross-entropy of h3 against y = [1, 0], averaged over the two outputs
Then one backward pass and one step of gradient descent, and the loss again.

Run: python examples/forward_pass.py [--lr 0.5]
"""

import argparse

import numpy as np

from tinygrad_mnist import Tensor, no_grad
from tinygrad_mnist.worked_examples import course_forward, course_parameters


def show(name: str, values: np.ndarray, fmt: str = ".4f") -> None:
    print(f"{name:>4} = " + " ".join(f"{v:{fmt}}" for v in np.ravel(values)))


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--lr", type=float, default=0.5, help="gradient-descent step size")
args = parser.parse_args()

# The graph is built in the package (tinygrad_mnist/worked_examples.py), so that the explorer
# (`tinygrad-mnist viz --example forward_pass`) and the tests use the very same one.
course = course_parameters()
params = [course[name] for name in ("W1", "b1", "W2", "b2", "W3", "b3")]
W3, b3, b1 = course["W3"], course["b3"], course["b1"]


def forward(verbose: bool) -> Tensor:
    out = course_forward(course)
    if verbose:
        for name in ("a1", "h1", "a2", "h2", "a3", "h3"):
            show(name, out[name].data)
    return out["loss"]


print("(4 decimals, rounded; the course's slide truncates to 3: h3 = 0.497 0.502, loss 0.6981)")
loss = forward(verbose=True)
print(f"loss = {loss.item():.4f}")

loss.backward()  # fills W1.grad ... b3.grad
print("\nafter backward:")
show("dW3", W3.grad)
show("db3", b3.grad)
# W3's two columns are equal, so dL/dh2 = W3 @ dL/da3 = (-0.5025 + 0.5025) = 0: in this first
# step only layer 3 learns.
show("db1", b1.grad)

with no_grad():  # the update itself is not part of the graph
    for p in params:
        p -= args.lr * p.grad  # in place, as in PyTorch: p stays the same leaf
        p.zero_grad()

new_loss = forward(verbose=False)
print(f"\nafter one gradient-descent step (lr = {args.lr}): loss = {new_loss.item():.4f}")
