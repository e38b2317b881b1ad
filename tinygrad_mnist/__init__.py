"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST.

The package is a house of three floors, and imports only go down (tests/test_import_floors.py
checks it):
    the engine    scalar.py (Value), draw.py, dtypes.py, autograd/ (Function, the backward
                  engine, no_grad), ops/ (each op's forward and backward), tensors/ (Tensor),
                  backends/ (NumPy and C), gradcheck.py
    the library   nn/, optim.py, utils/data/ (MNIST files, DataLoader), training/,
                  serialization.py, atomic_file.py, scalar_nn.py, worked_examples.py,
                  inference.py
    the apps      cli.py and commands/, viz/ (the autograd explorer), digit_pad/, plots.py,
                  digit_render.py

Example::

    from tinygrad_mnist import Tensor, no_grad, cat, stack
    import tinygrad_mnist.nn.functional as F

The names below are imported when first used (PEP 562), so that `import tinygrad_mnist` is
quick and the command line can set up Ctrl-C handling before the heavy imports start.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module (below this package) that defines it
_EXPORTS = {
    "Value": "scalar",
    "DotGraph": "draw",
    "draw_dot": "draw",
    "Tensor": "tensors.tensor",
    "cat": "tensors.joining",
    "stack": "tensors.joining",
    "no_grad": "autograd.grad_mode",
    "is_grad_enabled": "autograd.grad_mode",
    "check_gradients": "gradcheck",
    "gradcheck": "gradcheck",
    "backend": "backends",
    "get_backend": "backends",
    "set_backend": "backends",
}
# subpackages reachable as attributes, as `import torch` makes torch.nn reachable
_SUBMODULES = ("autograd", "backends", "nn", "optim", "utils", "viz")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # from now on a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
