"""The digit pad (`tinygrad-mnist serve MODEL`): draw a digit in the browser and watch a
trained MLP read it. The page is static (static/); the model runs in Python, here.

preprocess.py   the canvas -> an MNIST-like 28x28 digit (crop, fit 20x20, centre of mass)
inference.py    the 28x28 digit -> each hidden layer's activations and the ten probabilities
server.py       the web server (standard library) and its JSON API

See docs/digit_pad.md.
"""

from .inference import analyse_digit, hidden_activations
from .preprocess import canvas_to_mnist

__all__ = ["analyse_digit", "canvas_to_mnist", "hidden_activations"]
