"""The course's four activations side by side, with derivatives from autograd and by hand.

    sigmoid(x) = 1 / (1 + e^-x)      sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))
    tanh(x)                          tanh'(x)    = 1 - tanh(x)^2
    relu(x)    = max(0, x)           relu'(x)    = 1 if x > 0 else 0
    leaky(x)   = max(0.1 x, x)       leaky'(x)   = 1 if x > 0 else 0.1

autograd: y.sum().backward() puts dy/dx of each element into x.grad (each y_i depends only
on x_i, so the gradient of the sum is the elementwise derivative). With the `plot` extra
installed it also draws activations.png.

Run: python examples/activations.py
"""

import numpy as np

from tinygrad_mnist import Tensor


def sig(x):
    return 1 / (1 + np.exp(-x))


CLOSED_FORMS = {  # name: (f, f')
    "sigmoid": (sig, lambda x: sig(x) * (1 - sig(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(0, x), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: np.maximum(0.1 * x, x), lambda x: np.where(x > 0, 1.0, 0.1)),
}

xs = np.linspace(-3, 3, 601)
results = {}
for name, (f, df) in CLOSED_FORMS.items():
    x = Tensor(xs, requires_grad=True, dtype="float64")
    y = x.leaky_relu(0.1) if name == "leaky_relu" else getattr(x, name)()  # x.sigmoid() ...
    y.sum().backward()
    grad = x.grad.numpy()
    assert np.allclose(y.data, f(xs)) and np.allclose(grad, df(xs)), name
    results[name] = (y.data, grad)

print("    x  " + "".join(f"{name:>12} {'d/dx':>6}" for name in results))
for i in range(0, 601, 100):  # x = -3, -2, ..., 3
    print(f"{xs[i]:5.1f}  " + "".join(f"{y[i]:12.4f} {g[i]:6.4f}" for y, g in results.values()))
print("autograd's derivatives match the closed forms at all", len(xs), "points")

try:
    import matplotlib.pyplot as plt
except ImportError:
    print("(install the plot extra, pip install 'tinygrad-mnist[plot]', to draw them)")
else:
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, (name, (y, g)) in zip(axes, results.items()):
        ax.plot(xs, y, label=name)
        ax.plot(xs, g, "--", label="derivative")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("activations.png", dpi=100)
    print("wrote activations.png")
