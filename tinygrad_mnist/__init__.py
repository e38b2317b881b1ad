"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST.

    from tinygrad_mnist import Tensor, no_grad, cat
    import tinygrad_mnist.nn.functional as F
"""

from .backends import backend, get_backend, set_backend
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import check_gradients, gradcheck
from .tensor import Tensor, cat

__all__ = [
    "Tensor",
    "backend",
    "cat",
    "check_gradients",
    "get_backend",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_backend",
]
__version__ = "0.1.0"
