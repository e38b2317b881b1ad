"""tinygrad_mnist: a small, readable autograd engine with C kernels, for MLPs on MNIST.

The course's order: scalar.py (Value) -> tensor.py (Tensor) -> ops/ -> backends/ -> nn/ ->
optim.py -> data/ -> training.py -> cli.py.

Example::

    from tinygrad_mnist import Tensor, no_grad, cat, stack
    import tinygrad_mnist.nn.functional as F
"""

import os as _os
import signal as _signal
import sys as _sys


def _exit_on_early_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C while the command line is still importing (the first ~0.15 s): there is
    nothing to save yet, so exit as cli.main does on Ctrl-C, without a traceback."""
    _sys.stderr.write("error: interrupted\n")
    _os._exit(130)


def _started_as_command() -> bool:
    """True when this import is the start of `tinygrad-mnist` or `python -m tinygrad_mnist`."""
    if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "tinygrad-mnist":
        return True
    argv = list(getattr(_sys, "orig_argv", ()))
    return "-m" in argv and argv[argv.index("-m") + 1 :][:1] == ["tinygrad_mnist"]


if _started_as_command() and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _exit_on_early_interrupt)  # cli.main puts the default back

from .backends import backend, get_backend, set_backend  # noqa: E402
from .draw import DotGraph, draw_dot  # noqa: E402
from .grad_mode import is_grad_enabled, no_grad  # noqa: E402
from .gradcheck import check_gradients, gradcheck  # noqa: E402
from .scalar import Value  # noqa: E402
from .tensor import Tensor, cat, stack  # noqa: E402

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
