"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST.

The package is a house of three floors, and imports only go down (tests/test_import_floors.py
checks it):
    the engine    scalar.py (Value), draw.py, dtypes.py, devices.py, autograd/ (Function, the
                  backward engine, no_grad), ops/ (each op's forward and backward), tensors/
                  (Tensor, and torch's functions that make tensors), backends/ (NumPy and C),
                  gradient_check.py
    the library   nn/, optim.py, utils/data/ (MNIST files, Dataset, DataLoader), training/,
                  serialization.py, tensor_files.py (save/load), atomic_file.py, scalar_nn.py,
                  worked_examples.py, inference.py
    the apps      cli.py and commands/, viz/ (the autograd explorer), digit_pad/, plots.py,
                  digit_render.py

Example::

    from tinygrad_mnist import Tensor, no_grad, cat, stack
    import tinygrad_mnist.nn.functional as F

It also answers to torch's names, so that a PyTorch program runs with only its import changed
(`import tinygrad_mnist as torch`): torch.tensor, torch.randn, torch.float32, torch.device,
torch.cuda.is_available(), torch.save, torch.nn, torch.optim, torch.utils.data, ...

The names below are imported when first used (PEP 562), so that `import tinygrad_mnist` is
quick and the command line can set up Ctrl-C handling before the heavy imports start.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module (below this package) that defines it, or "module:name" when the
# name there differs (torch.float is dtypes.float32)
_EXPORTS = {
    "Value": "scalar",
    "DotGraph": "draw",
    "draw_dot": "draw",
    "Tensor": "tensors.tensor",
    "TinyJit": "capture",
    "cat": "tensors.joining",
    "concat": "tensors.joining:cat",
    "stack": "tensors.joining",
    "no_grad": "autograd.grad_mode",
    "enable_grad": "autograd.grad_mode",
    "set_grad_enabled": "autograd.grad_mode",
    "inference_mode": "autograd.grad_mode",
    "is_grad_enabled": "autograd.grad_mode",
    "check_gradients": "gradient_check",
    "gradcheck": "gradient_check",
    "backend": "backends",
    "get_backend": "backends",
    "set_backend": "backends",
    # torch's names: dtypes, devices, random numbers, saving
    "float32": "dtypes",
    "float": "dtypes:float32",
    "float64": "dtypes",
    "double": "dtypes",
    "int64": "dtypes",
    "long": "dtypes",
    "int32": "dtypes",
    "int": "dtypes:int32",
    "bool": "dtypes:bool_",
    "device": "devices",
    "cuda": "devices",
    "accelerator": "devices",
    "Generator": "tensors.random",
    "manual_seed": "tensors.random",
    "seed": "tensors.random",
    "initial_seed": "tensors.random",
    "default_generator": "tensors.random",
    "save": "tensor_files",
    "load": "tensor_files",
}
# torch's functions that make tensors (tensors/creation.py) and its module-level math
# (tensors/functions.py), each under its own name
_EXPORTS.update(
    dict.fromkeys(
        "arange as_tensor empty empty_like eye from_numpy full full_like linspace multinomial "
        "normal ones ones_like rand rand_like randint randint_like randn randn_like randperm "
        "tensor zeros zeros_like".split(),
        "tensors.creation",
    )
)
_EXPORTS.update(
    dict.fromkeys(
        "exp log log1p log10 log2 sqrt square abs sin cos sinh cosh tanh sigmoid relu clamp "
        "clip pow maximum minimum sum mean max min amax amin argmax argmin norm std var "
        "softmax log_softmax matmul mm bmm dot mv t transpose swapaxes permute reshape flatten "
        "squeeze unsqueeze numel add sub mul div where meshgrid is_tensor is_floating_point "
        "allclose equal".split(),
        "tensors.functions",
    )
)
# subpackages reachable as attributes, as `import torch` makes torch.nn reachable
_SUBMODULES = ("autograd", "backends", "nn", "optim", "utils", "viz")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, _, attr = _EXPORTS[name].partition(":")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # from now on a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
