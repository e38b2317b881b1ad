"""One neuron by hand, with scalar autograd: o = tanh(x1*w1 + x2*w2 + b).

Run:  python examples/scalar_autograd.py [output_dir]
It prints every gradient, writes the graph to output_dir/neuron.dot (default: the current
directory) and, when Graphviz is installed, renders output_dir/neuron.svg as well.
"""

import sys
from pathlib import Path

from tinygrad_mnist.draw import draw_dot
from tinygrad_mnist.scalar import Value

# Inputs, weights and bias (b is chosen so the numbers come out round).
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")

# Forward pass, one labelled step at a time, so the drawing is easy to follow.
x1w1 = x1 * w1
x1w1.label = "x1*w1"
x2w2 = x2 * w2
x2w2.label = "x2*w2"
n = x1w1 + x2w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"

# Backward pass: d(o)/d(every node), by the chain rule.
o.backward()
print(f"o = tanh(n) = {o.data:.4f}")
print("do/dn = 1 - o^2 =", round(n.grad, 4))
for v in (x1, x2, w1, w2, b):
    # For a product, the gradient of one factor is the other factor times do/dn:
    # e.g. do/dw1 = x1 * do/dn, so x2 = 0 means w2 gets no gradient at all.
    print(f"d o / d {v.label:<2} = {v.grad:+.4f}")

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
graph = draw_dot(o)
print("wrote", graph.render(out_dir / "neuron.dot"))
try:
    print("wrote", graph.render(out_dir / "neuron.svg"))
except RuntimeError as err:  # Graphviz is optional: the .dot file is still there
    print(err)
