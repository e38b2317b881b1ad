"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST."""

from .backends import backend, get_backend, set_backend

__all__ = ["backend", "get_backend", "set_backend"]
__version__ = "0.1.0"
