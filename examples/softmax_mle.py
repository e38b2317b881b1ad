"""Softmax as a probability distribution, and maximum likelihood leading to cross-entropy.

softmax(z)_k = e^(z_k) / sum_j e^(z_j): positive, sums to 1, and unchanged when the same
number is added to every z_k. A model that outputs p(y | x) = softmax(z(x)) gives N labels
the likelihood L = prod_i p(y_i | x_i). Maximising L is maximising log L = sum_i log p(y_i |
x_i), which is minimising -(1/N) log L = mean_i -log softmax(z_i)[y_i]: the cross-entropy.

Run: python examples/softmax_mle.py
"""

import numpy as np

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, no_grad

z = Tensor([[2.0, 1.0, 0.1]], dtype="float64")
p = z.softmax()
print("logits z       =", z.data[0])
print("softmax(z)     =", p.data[0].round(4))
print("sums to        =", p.data.sum().round(12))
print("softmax(z+100) =", (z + 100).softmax().data[0].round(4), "(shift-invariant)")

# Labels under a model: the likelihood is the product of the probabilities of the labels.
logits = Tensor(
    [[2.0, 1.0, 0.1], [0.5, 2.5, 0.0], [0.2, 0.3, 1.9], [1.0, 1.2, 0.9]], dtype="float64"
)
labels = np.array([0, 1, 2, 0])
probs = logits.softmax().data[np.arange(4), labels]  # p(y_i | x_i)
likelihood, log_likelihood = probs.prod(), np.log(probs).sum()
print(f"\np(label) per sample = {probs.round(4)}")
print(f"likelihood = {likelihood:.6f}   log-likelihood = {log_likelihood:.6f}")
nll = -log_likelihood / len(labels)
ce = F.cross_entropy(logits, labels).item()
print(f"negative mean log-likelihood = {nll:.6f}\nF.cross_entropy              = {ce:.6f}")
assert abs(nll - ce) < 1e-12

# Fit a tiny softmax regression (3 classes, 2 features) by gradient descent on that loss.
rng = np.random.default_rng(0)
centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
y = rng.integers(0, 3, size=300)
x = Tensor(centers[y] + rng.normal(scale=0.8, size=(300, 2)), dtype="float64")
W = Tensor(np.zeros((2, 3)), requires_grad=True, dtype="float64")
b = Tensor(np.zeros(3), requires_grad=True, dtype="float64")
for step in range(101):
    loss = F.cross_entropy(x @ W + b, y)  # = -(1/N) log-likelihood of the labels
    W.zero_grad()
    b.zero_grad()
    loss.backward()
    with no_grad():
        W -= 0.5 * W.grad  # gradient descent, in place
        b -= 0.5 * b.grad
    if step % 25 == 0:
        print(
            f"step {step:3d}  cross-entropy {loss.item():.4f}  likelihood^(1/N) "
            f"{np.exp(-loss.item()):.4f}"
        )
accuracy = ((x @ W + b).data.argmax(axis=1) == y).mean()
print(f"softmax regression: training accuracy {accuracy:.0%}")
