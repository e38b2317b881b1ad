"""`tinygrad-mnist predict MODEL --index N | --image FILE`: show a digit and what the model says.

    tinygrad-mnist predict mnist_mlp.npz --index 0          test digit 0, its label, top 3
    tinygrad-mnist predict mnist_mlp.npz --image my7.png    your own image (needs Pillow)

The digit is drawn in the terminal (see digit_render.py): shaded blocks by default,
`--half-blocks` for a compact picture with the right proportions, `--ascii` for plain
terminals. An image is shown as the model sees it: turned upright by its EXIF orientation,
inverted if needed, cropped to its ink, fitted into 20x20 and centred by its centre of mass in
28x28, as MNIST's digits were (`digit_render.mnist_preprocess`, which the digit pad uses too).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..digit_render import (
    ImageInputError,
    load_digit_image,
    pixels_to_input,
    render_digit,
)
from ..inference import class_probabilities
from ..plots import MissingPlotExtraError
from ..serialization import ModelFileError, load_model
from ..utils.data import load_mnist
from . import HelpFormatter, add_data_dir
from .arguments import positive_int

NAME = "predict"
INPUT_SIZE = 28 * 28
BAR_WIDTH = 20  # characters of a 100% probability bar


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `predict` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="draw one digit in the terminal with the model's top-3 classes",
        description="Draw a digit (a test-set digit, or your own image) in the terminal and "
        "print the model's most likely classes with their probabilities.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `train` (.npz)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--index", type=int, default=None, metavar="N", help="test-set digit N (0 to 9999)"
    )
    source.add_argument(
        "--image",
        default=None,
        metavar="FILE",
        help="your own digit image (PNG, JPEG, ...; one frame, at least 28x28 pixels, at most "
        "10 times as long as wide; needs Pillow)",
    )
    add_data_dir(p, ", for --index")
    style = p.add_mutually_exclusive_group()
    style.add_argument("--ascii", action="store_true", help="plain ASCII instead of Unicode")
    style.add_argument(
        "--half-blocks",
        action="store_true",
        help="two pixels per character with ▀ and ▄: right proportions, but only ink/no ink",
    )
    p.add_argument("--top", type=positive_int, default=3, metavar="K", help="classes to list")
    return p


def format_top_classes(probs: np.ndarray, k: int = 3, ascii_only: bool = False) -> list[str]:
    """Lines like "  7   97.31%  ███████████████████" for the k most likely classes of probs [C]."""
    bar = "#" if ascii_only else "█"
    order = np.argsort(-probs, kind="stable")[:k]
    return [f"  {c}  {100 * probs[c]:6.2f}%  {bar * round(BAR_WIDTH * probs[c])}" for c in order]


def run(args: argparse.Namespace) -> int:
    """Show the digit and the prediction; 0 when done, 2 for bad input, 1 without Pillow.

    A bad model file or missing MNIST data go up to cli.main, which reports them (exit 2).
    """
    model, _meta = load_model(args.model)
    if model.sizes[0] != INPUT_SIZE:
        raise ModelFileError(
            f"{args.model}: the model takes {model.sizes[0]} inputs, not {INPUT_SIZE} "
            "(28x28 pixels), so it is not an MNIST model"
        )
    label = None
    if args.image is not None:
        try:
            pixels = load_digit_image(args.image)
        except ImageInputError as e:
            return _error(str(e), status=2)
        except MissingPlotExtraError as e:
            return _error(str(e), status=1)
        title = f"{args.image}, as the model sees it (28x28):"
    else:
        images, labels = load_mnist("test", args.data_dir)
        if not 0 <= args.index < len(images):
            return _error(
                f"--index {args.index} is out of range: the test set has {len(images)} digits, "
                f"numbered 0 to {len(images) - 1}",
                status=2,
            )
        pixels, label = images[args.index], int(labels[args.index])
        title = f"test digit {args.index}:"

    style = "ascii" if args.ascii else "half" if args.half_blocks else "shade"
    with np.errstate(over="ignore", invalid="ignore"):
        probs = class_probabilities(model, pixels_to_input(pixels)[None])[0]
    if not np.all(np.isfinite(probs)):
        raise ModelFileError(
            f"{args.model}: the model's outputs overflow to NaN/Inf on this digit "
            "(its weights are too large for float32); it cannot make a prediction"
        )
    print(title)
    print(render_digit(pixels, style=style, frame=True))
    if label is not None:
        print(f"true label: {label}")
    print(f"predicted:  {int(np.argmax(probs))}")
    print(f"top {min(args.top, len(probs))}:")
    print("\n".join(format_top_classes(probs, args.top, ascii_only=style == "ascii")))
    return 0


def _error(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status
