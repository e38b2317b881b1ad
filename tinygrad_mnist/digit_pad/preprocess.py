"""A drawing on the digit pad's canvas turned into an MNIST digit, the way MNIST made its own.

The preprocessing itself is `digit_render.mnist_preprocess` (crop to the ink, fit into 20x20,
centre by centre of mass; its docstring tells why): one function for the pad's canvas and for
`predict --image`, so both see the same 28x28 digit in the same picture. This module adds
what only the pad needs: the check for Pillow at start-up, and the name the pad uses.
"""

from __future__ import annotations

from ..digit_render import is_blank, mnist_preprocess
from ..plots import MissingPlotExtraError

# The pad's canvas goes through exactly what `predict --image` does with a picture.
canvas_to_mnist = mnist_preprocess

__all__ = ["canvas_to_mnist", "is_blank", "require_pillow"]


def require_pillow() -> None:
    """Raise `MissingPlotExtraError` unless Pillow (the `plot` extra) can be imported."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise MissingPlotExtraError("Pillow", "The digit pad") from None
