"""A drawing on the digit pad's canvas turned into an MNIST digit, the way MNIST made its own.

MNIST's digits were scanned on paper, then (LeCun et al.) each was fitted into a 20x20 box
keeping its aspect ratio, with antialiasing, and put into a 28x28 image so that its centre of
mass sits at the centre. A model trained on MNIST has only ever seen digits like that: a "1"
drawn in a corner of the canvas, or twice as big as usual, would look like nothing it knows.
So `canvas_to_mnist` does the same to the canvas:

    1. light ink on a dark background, like MNIST (a light canvas is inverted:
       digit_render.has_white_background decides, as for `predict --image`);
    2. crop to the bounding box of the ink;
    3. shrink (or grow) it so its longer side is 20 pixels, keeping the aspect ratio, with
       Pillow's LANCZOS filter (thin strokes turn gray instead of vanishing);
    4. paste it into a black 28x28 image so that its centre of mass lands on pixel (14, 14).

`digit_render.pixels_to_input` then normalises the 28x28 digit to [-1, 1] exactly like the
training data; `predict --image` of the resulting 28x28 PNG sees the same pixels.
"""

from __future__ import annotations

import numpy as np

from ..digit_render import MIN_CONTRAST, SIDE, has_white_background
from ..plots import MissingPlotExtraError

BOX = 20  # MNIST fits each digit into a BOX x BOX square ...
# ... and puts it into the SIDE x SIDE image with its centre of mass here (row, column).
CENTRE = (SIDE - 1) / 2


def require_pillow() -> None:
    """Raise `MissingPlotExtraError` unless Pillow (the `plot` extra) can be imported."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise MissingPlotExtraError("Pillow", "The digit pad") from None


def is_blank(gray: np.ndarray) -> bool:
    """True if the image holds no ink: its darkest and lightest pixels differ by less than
    digit_render.MIN_CONTRAST (the rule `predict --image` uses to refuse a blank image)."""
    return int(gray.max()) - int(gray.min()) < MIN_CONTRAST


def canvas_to_mnist(gray: np.ndarray) -> np.ndarray:
    """A grayscale drawing uint8 [H, W] as an MNIST-like digit uint8 [28, 28] (see the module
    docstring). A blank drawing (see `is_blank`) gives an all-black 28x28 image."""
    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ValueError(f"canvas_to_mnist: need a grayscale image [H, W], got {gray.shape}")
    if is_blank(gray):
        return np.zeros((SIDE, SIDE), dtype=np.uint8)
    if has_white_background(gray):
        gray = 255 - gray
    # Ink is what is brighter than the background (the darkest level, 0 on the pad's canvas).
    ink = gray.astype(np.int16) - int(gray.min())
    rows, cols = np.nonzero(ink)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].astype(np.uint8)

    from PIL import Image

    height, width = crop.shape
    scale = BOX / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    small = np.asarray(Image.fromarray(crop).resize((new_w, new_h), Image.LANCZOS), np.uint8)
    return _paste_centred_by_mass(small)


def _paste_centred_by_mass(small: np.ndarray) -> np.ndarray:
    """`small` [h, w] (h, w <= BOX) in a black 28x28 image, shifted so that its centre of
    mass is as near CENTRE as whole pixels allow, without cutting any of it off."""
    h, w = small.shape
    mass = small.astype(np.float64)
    total = mass.sum()
    if total == 0:  # the filter rounded every pixel to 0: nothing left to centre
        return np.zeros((SIDE, SIDE), dtype=np.uint8)
    row_c = float((mass.sum(axis=1) * np.arange(h)).sum() / total)
    col_c = float((mass.sum(axis=0) * np.arange(w)).sum() / total)
    # Top-left corner that puts the centre of mass at CENTRE, clamped so the digit stays whole.
    top = int(np.clip(round(CENTRE - row_c), 0, SIDE - h))
    left = int(np.clip(round(CENTRE - col_c), 0, SIDE - w))
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    out[top : top + h, left : left + w] = small
    return out
