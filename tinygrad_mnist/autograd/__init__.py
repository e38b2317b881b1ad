"""Autograd for the Tensor tier, as torch.autograd: `Function` (one op's forward and backward,
function.py), the backward engine (the chain rule over a graph, engine.py) and grad mode
(`no_grad`, grad_mode.py). Gradient checking is in tinygrad_mnist/gradient_check.py."""

from .function import Function
from .grad_mode import is_grad_enabled, no_grad

__all__ = ["Function", "is_grad_enabled", "no_grad"]
