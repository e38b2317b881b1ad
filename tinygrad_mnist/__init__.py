"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST.

The course's order: scalar.py (Value) -> tensor.py (Tensor) -> ops/ -> backends/ -> nn/ ->
optim.py -> data/ -> training.py -> cli.py.

Example::

    from tinygrad_mnist import Tensor, no_grad, cat, stack
    import tinygrad_mnist.nn.functional as F
"""

from .backends import backend, get_backend, set_backend
from .draw import DotGraph, draw_dot
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import check_gradients, gradcheck
from .scalar import Value
from .tensor import Tensor, cat, stack

__all__ = [
    "DotGraph",
    "Tensor",
    "Value",
    "backend",
    "cat",
    "check_gradients",
    "draw_dot",
    "get_backend",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_backend",
    "stack",
]
__version__ = "0.1.0"
