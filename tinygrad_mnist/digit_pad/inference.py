"""What the digit pad shows of the model: each hidden layer's activations and the ten class
probabilities, for one 28x28 digit, computed by the engine (never in the browser).

The probabilities come from `inference.class_probabilities` (the model's forward pass and
softmax under no_grad), the function `tinygrad-mnist predict` calls, so the page and the
command cannot disagree on the same pixels. Hidden layer k's activations are the output of
the model's first k Linear + activation pairs, run as a `Sequential` of the model's own
modules with its fusion setting: the same ops as inside the full forward pass, stopped
early.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..digit_render import pixels_to_input
from ..inference import class_probabilities
from ..nn import MLP, Sequential
from ..tensors.tensor import Tensor


def hidden_activations(model: MLP, x: np.ndarray) -> list[np.ndarray]:
    """The output of each hidden layer (after its activation) for inputs x float32 [N, 784]:
    one array [N, sizes[k]] per hidden layer, in order."""
    out = []
    with no_grad():
        # An MLP's modules are Linear, activation, Linear, activation, ..., Linear.
        for k in range(1, len(model.sizes) - 1):
            prefix = Sequential(*(model[i] for i in range(2 * k)), fuse=model.fuse)
            out.append(np.asarray(prefix(Tensor(x)).data))
    return out


def analyse_digit(model: MLP, pixels: np.ndarray) -> dict[str, Any]:
    """The digit pad's view of `pixels` uint8 [28, 28], as JSON-able lists:

    {"pixels": 28 rows of 28 ints 0..255, "input_range": [min, max] of the normalised input,
     "hidden": [{"size": n, "values": [n floats]}, ...], "probabilities": [10 floats],
     "prediction": the most likely class}
    """
    x = pixels_to_input(pixels)[None]
    with np.errstate(over="ignore", invalid="ignore"):
        probs = class_probabilities(model, x)[0].astype(np.float64)
        hidden = [h[0].astype(np.float64) for h in hidden_activations(model, x)]
    finite = bool(np.all(np.isfinite(probs))) and all(np.all(np.isfinite(h)) for h in hidden)
    return {
        "pixels": np.asarray(pixels, dtype=np.uint8).tolist(),
        "input_range": [float(x.min()), float(x.max())],
        "hidden": [{"size": int(h.size), "values": _finite_list(h)} for h in hidden],
        "probabilities": _finite_list(probs),
        "prediction": int(np.argmax(probs)) if finite else None,
        "finite": finite,
    }


def _finite_list(values: np.ndarray) -> list[float | None]:
    """Floats for JSON, which has no NaN or Infinity: those become null."""
    return [float(v) if np.isfinite(v) else None for v in values]
