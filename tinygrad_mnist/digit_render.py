"""Digits in the terminal, and your own digit image turned into the model's input.

Drawing: `render_digit` turns a [H, W] image into text, one character per pixel column.

    style "shade"  one character per pixel, darker shade for more ink: " ░▒▓█" (H rows)
    style "half"   two pixels per character, top and bottom: " ▀▄█" (H/2 rows). Terminal
                   characters are about twice as tall as wide, so this keeps the digit's shape
                   but shows only ink or no ink (at half intensity).
    style "ascii"  like "shade" with plain ASCII " .:-=+*#%@", for terminals without Unicode

Reading an image: `load_digit_image` = `load_grayscale` (any format Pillow reads, turned
upright by its EXIF orientation) then `to_mnist_pixels`, which checks it and hands it to
`mnist_preprocess`: MNIST's own preprocessing, the one the digit pad applies to its canvas too,
so `predict --image` and the pad see the same 28x28 digit in the same picture.
`pixels_to_input` then normalises it exactly as the training data was. Pillow comes with the
`plot` extra and is imported only when an image is read.

MNIST's digits were scanned on paper, then (LeCun et al.) each was fitted into a 20x20 box
keeping its aspect ratio, with antialiasing, and put into a 28x28 image so that its centre of
mass sits at the centre. A model trained on MNIST has only ever seen digits like that: a "1"
drawn in a corner, or twice as big as usual, would look like nothing it knows. So
`mnist_preprocess` does the same:

    1. light ink on a dark background, like MNIST (a light image is inverted:
       `has_white_background` decides);
    2. the background (the median of the border) is subtracted, and the image is cropped to
       the bounding box of what is brighter than it by more than NOISE;
    3. the crop is shrunk (or grown) so its longer side is BOX = 20 pixels, keeping the aspect
       ratio, with Pillow's LANCZOS filter (thin strokes turn gray instead of vanishing);
    4. it is pasted into a black 28x28 image so that its centre of mass lands on the centre.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .plots import MissingPlotExtraError
from .utils.data.mnist import flatten, normalize

SIDE = 28
STYLES = ("shade", "half", "ascii")
SHADE_CHARS = " ░▒▓█"
ASCII_CHARS = " .:-=+*#%@"
# Half blocks, indexed by (top has ink) * 2 + (bottom has ink).
HALF_CHARS = (" ", "▄", "▀", "█")
UNICODE_FRAME = "┌─┐│└┘"
ASCII_FRAME = "+-+|++"
# Refuse images larger than this before decoding them: a small file can claim a huge size.
MAX_PIXELS = 4096 * 4096
# A digit is about as wide as tall; a 28 x 40000 strip is not a digit, so it is refused.
MAX_ASPECT = 10
# A converted image whose darkest and lightest pixels differ by less than this is blank.
MIN_CONTRAST = 32
# Pixels less than this above the background are paper grain or sensor noise, not ink: they
# do not widen the crop (a photo's noise would otherwise make it the whole image).
NOISE = MIN_CONTRAST // 2
BOX = 20  # MNIST fits each digit into a BOX x BOX square ...
CENTRE = (SIDE - 1) / 2  # ... and puts its centre of mass here (row and column)
# Pillow modes of more than 8 bits per pixel: rescaled to 0..255 by hand, because
# `convert("L")` clips them (a 16-bit white of 65535 would count as 255, but so would 300).
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class ImageInputError(ValueError):
    """An image file cannot be used as a digit; the message names the file and the reason."""


def render_digit(pixels: np.ndarray, style: str = "shade", frame: bool = False) -> str:
    """Text picture of `pixels` [H, W] (0 = background, 255 = full ink; uint8 or floats).

    Returns H lines of W characters ("half": ceil(H/2) lines) joined by newlines, with no
    trailing newline. `frame=True` draws a box around it, so blank rows and columns show.
    """
    if style not in STYLES:
        raise ValueError(f"render_digit: style must be one of {STYLES}, got {style!r}")
    ink = np.clip(np.asarray(pixels, dtype=np.float64) / 255.0, 0.0, 1.0)
    if ink.ndim != 2:
        raise ValueError(f"render_digit: need a 2-D image [H, W], got shape {ink.shape}")
    if style == "half":
        on = ink >= 0.5
        if len(on) % 2:  # an odd last row gets an empty partner below it
            on = np.vstack([on, np.zeros((1, on.shape[1]), dtype=bool)])
        codes = 2 * on[0::2].astype(int) + on[1::2].astype(int)
        lines = ["".join(HALF_CHARS[c] for c in row) for row in codes]
    else:
        chars = SHADE_CHARS if style == "shade" else ASCII_CHARS
        # Round to the nearest level, so that 0 is blank and 255 is the darkest character.
        levels = np.rint(ink * (len(chars) - 1)).astype(int)
        lines = ["".join(chars[v] for v in row) for row in levels]
    if frame:
        tl, h, tr, v, bl, br = ASCII_FRAME if style == "ascii" else UNICODE_FRAME
        width = ink.shape[1]
        lines = [tl + h * width + tr] + [v + line + v for line in lines] + [bl + h * width + br]
    return "\n".join(lines)


def load_grayscale(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as grayscale uint8 [H, W] (0 black, 255 white).

    Transparent pixels count as white paper; 16-bit, 32-bit and float images are rescaled to
    0..255 (see `_wide_to_uint8`), not clipped. Raises `ImageInputError` with a clear message
    if the file is missing, is not an image, is truncated or corrupt, is absurdly large, or
    is animated (several frames: which one is the digit?), and `MissingPlotExtraError` if
    Pillow is not installed.
    """
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise MissingPlotExtraError("Pillow", "Reading an image file") from None
    path = Path(path)
    if not path.exists():
        raise ImageInputError(f"{path}: no such file")
    if not path.is_file():
        raise ImageInputError(f"{path}: not a file")
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ImageInputError(
                    f"{path}: image is {width} x {height} pixels; at most {MAX_PIXELS} pixels "
                    "are accepted. Crop or shrink it first."
                )
            frames = getattr(img, "n_frames", 1)
            if frames > 1:  # which frame would be the digit? Do not guess.
                raise ImageInputError(
                    f"{path}: an animated image with {frames} frames; save the frame you mean "
                    "as a still image (PNG) first"
                )
            img.load()  # decode now: a truncated or corrupt file fails here, not later
            # A phone stores its photo as the sensor saw it and says in EXIF how to turn it:
            # without this, a portrait photo of a digit is read lying on its side.
            img = ImageOps.exif_transpose(img)
            if img.mode in WIDE_MODES:
                return _wide_to_uint8(path, np.asarray(img), img.mode)
            if "A" in img.getbands() or "transparency" in img.info:
                # A drawing app's transparent background would turn black in plain "L";
                # put the image on white paper first.
                rgba = img.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(paper, rgba)
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except ImageInputError:
        raise  # ours (too large), already clear
    except Image.UnidentifiedImageError:
        raise ImageInputError(
            f"{path}: not an image file Pillow can read (try PNG or JPEG)"
        ) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        # Pillow reports truncated or corrupt data as OSError (and, for a few formats,
        # SyntaxError or ValueError).
        raise ImageInputError(f"{path}: cannot decode the image ({e})") from None


def _wide_to_uint8(path: Path, values: np.ndarray, mode: str) -> np.ndarray:
    """A 16-bit, 32-bit or float grayscale image as uint8 0..255, rescaled by its range:
    16-bit (and 32-bit integer images holding 16-bit values, as Pillow reads some 16-bit
    PNGs) by 65535 / 255; floats in [0, 1] (the usual range of float TIFFs) by 255; anything
    else (floats past 1, negative values) from its own min..max to 0..255."""
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ImageInputError(f"{path}: the image holds NaN or infinite pixel values")
    lo, hi = float(values.min()), float(values.max())
    if mode != "F" and lo >= 0 and hi <= 65535:
        scaled = values / 257.0  # 65535 / 255 = 257: 16-bit white stays white
    elif mode == "F" and lo >= 0 and hi <= 1:
        scaled = values * 255.0
    else:
        scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def has_white_background(gray: np.ndarray) -> bool:
    """True if the pixels on the image's border are light on average (mean > 127.5).

    The border is nearly always background, so this tells dark-ink-on-paper images (which
    must be inverted to look like MNIST) from light-on-dark ones.
    """
    border = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    return float(border.mean()) > 127.5


def is_blank(gray: np.ndarray) -> bool:
    """True if the image holds no ink: its darkest and lightest pixels differ by less than
    MIN_CONTRAST."""
    return int(gray.max()) - int(gray.min()) < MIN_CONTRAST


def to_mnist_pixels(gray: np.ndarray) -> np.ndarray:
    """A grayscale image uint8 [H, W] (H, W >= 28) as an MNIST-like digit uint8 [28, 28], by
    `mnist_preprocess`. Raises `ImageInputError` if it is too small, far from square (more
    than MAX_ASPECT:1), or blank.
    """
    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2:
        raise ImageInputError(f"need a grayscale image [H, W], got shape {gray.shape}")
    height, width = gray.shape
    if height < SIDE or width < SIDE:
        raise ImageInputError(
            f"image is {width} x {height} pixels; it must be at least {SIDE} x {SIDE}"
        )
    if max(height, width) > MAX_ASPECT * min(height, width):
        raise ImageInputError(
            f"image is {width} x {height} pixels, more than {MAX_ASPECT} times as long one way "
            "as the other; a digit image is roughly square. Crop it first."
        )
    pixels = mnist_preprocess(gray)
    if is_blank(gray) or not pixels.any():
        raise ImageInputError(
            f"image is blank (all pixels between {gray.min()} and {gray.max()} after "
            "conversion to 8-bit grayscale): there is no digit to read"
        )
    return pixels


def mnist_preprocess(gray: np.ndarray) -> np.ndarray:
    """Any grayscale image uint8 [H, W] as an MNIST-like digit uint8 [28, 28], the way MNIST
    made its own (see the module docstring): inverted if light, cropped to the ink, fitted
    into 20x20 and centred by its centre of mass. A blank image (see `is_blank`) gives an
    all-black 28x28 image. Needs Pillow unless the image is blank."""
    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ValueError(f"mnist_preprocess: need a grayscale image [H, W], got {gray.shape}")
    if is_blank(gray):
        return np.zeros((SIDE, SIDE), dtype=np.uint8)
    if has_white_background(gray):
        gray = 255 - gray
    border = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    background = int(np.median(border))
    # Memory stays bounded by the input: a boolean mask, then only the crop in wider types.
    ink = gray > background + NOISE
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:  # contrast, but none of it brighter than the background: no digit
        return np.zeros((SIDE, SIDE), dtype=np.uint8)
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.int16) - background
    crop = np.clip(crop, 0, 255).astype(np.uint8)
    try:
        from PIL import Image
    except ImportError:
        raise MissingPlotExtraError("Pillow", "Resizing an image") from None
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


def load_digit_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as an MNIST-like digit uint8 [28, 28]: `load_grayscale`, then
    `to_mnist_pixels`. Every problem is an `ImageInputError` naming the file."""
    gray = load_grayscale(path)
    try:
        return to_mnist_pixels(gray)
    except ImageInputError as e:
        raise ImageInputError(f"{path}: {e}") from None


def pixels_to_input(pixels: np.ndarray) -> np.ndarray:
    """uint8 [28, 28] -> float32 [784] in [-1, 1], normalised exactly like the training data."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.shape != (SIDE, SIDE):
        raise ValueError(f"pixels_to_input: need [{SIDE}, {SIDE}], got {pixels.shape}")
    return flatten(normalize(pixels[None]))[0]
