"""Running a trained MNIST classifier: its class probabilities for many images (in batches,
under no_grad), and the check that a model maps MNIST's 784 pixels to the 10 digits.

`tinygrad-mnist predict`, `tinygrad-mnist plot` and the digit pad all call
`class_probabilities`, so they cannot disagree on the same pixels.
"""

from __future__ import annotations

import os

import numpy as np

from .autograd.grad_mode import no_grad
from .nn import MLP
from .serialization import ModelFileError
from .tensors.tensor import Tensor

# Images per forward pass in class_probabilities: fast, yet small in memory.
BATCH_SIZE = 1000


def class_probabilities(model: MLP, x: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Softmax of the model's logits: x float32 [N, 784] -> probabilities [N, classes]."""
    out = []
    with no_grad():  # inference only: recording a graph would just cost memory
        for start in range(0, len(x), batch_size):
            logits = model(Tensor(x[start : start + batch_size]))
            out.append(logits.softmax(-1).data)
    return np.concatenate(out)


def require_mnist_model(path: str | os.PathLike[str], sizes: list[int]) -> None:
    """Raise ModelFileError unless a model of `sizes` maps MNIST's 784 pixels to 10 digits
    (eval and plot count its predictions per digit, which needs exactly 10 outputs)."""
    if sizes[0] != 784 or sizes[-1] != 10:
        raise ModelFileError(
            f"{path}: the model maps {sizes[0]} inputs to {sizes[-1]} outputs; an MNIST "
            "model maps 784 (28x28 pixels) to 10 (the digits)"
        )
