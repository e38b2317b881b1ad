"""`tinygrad-mnist predict MODEL --index N | --image FILE`: show a digit and what the model says.

    tinygrad-mnist predict mnist_mlp.npz --index 0          test digit 0, its label, top 3
    tinygrad-mnist predict mnist_mlp.npz --image my7.png    your own image (needs Pillow)

The digit is drawn in the terminal (see digit_render.py): shaded blocks by default,
`--half-blocks` for a compact, correctly proportioned picture, `--ascii` for plain terminals.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..data import IDXError, MNISTNotFoundError, load_mnist
from ..digit_render import (
    ImageInputError,
    load_grayscale,
    pixels_to_input,
    render_digit,
    to_mnist_pixels,
)
from ..grad_mode import no_grad
from ..nn import MLP
from ..plots import MissingPlotExtraError
from ..serialization import ModelFileError, load_model
from ..tensor import Tensor

NAME = "predict"
INPUT_SIZE = 28 * 28
# Test images per forward pass: large enough to be fast, small enough for little memory.
BATCH_SIZE = 1000


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `predict` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser(
        NAME,
        help="show one digit in the terminal and the model's top-3 classes",
        description="Draw a digit (a test-set digit, or your own image) in the terminal and "
        "print the model's three most likely classes with their probabilities.",
    )
    p.add_argument("model", help="a model file written by `train` (.npz)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=int, help="which test-set digit to show (0-based)")
    source.add_argument(
        "--image",
        metavar="FILE",
        help="your own digit image (PNG, JPEG, ...; at least 28x28 pixels; needs Pillow)",
    )
    p.add_argument("--data-dir", help="directory holding the MNIST files (for --index)")
    style = p.add_mutually_exclusive_group()
    style.add_argument("--ascii", action="store_true", help="plain ASCII instead of Unicode")
    style.add_argument(
        "--half-blocks",
        action="store_true",
        help="two pixels per character (▀▄): half the height, ink or no ink",
    )
    p.add_argument("--top", type=int, default=3, help="how many classes to list (default 3)")
    return p


def class_probabilities(model: MLP, x: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Softmax of the model's logits: x float32 [N, 784] -> probabilities [N, classes]."""
    out = []
    with no_grad():  # inference only: recording a graph would just cost memory
        for start in range(0, len(x), batch_size):
            logits = model(Tensor(x[start : start + batch_size]))
            out.append(logits.softmax(-1).data)
    return np.concatenate(out)


def format_top_classes(probs: np.ndarray, k: int = 3, ascii_only: bool = False) -> list[str]:
    """Lines "  7   97.31%  ███████████████████" for the `k` most likely classes of probs [C]."""
    bar_char = "#" if ascii_only else "█"
    order = np.argsort(-probs, kind="stable")[:k]
    return [f"  {c}  {100 * probs[c]:6.2f}%  {bar_char * round(20 * probs[c])}" for c in order]


def run(args: argparse.Namespace) -> int:
    """Run `predict`; returns the exit status (2 for bad input, with a one-line message)."""
    style = "ascii" if args.ascii else "half" if args.half_blocks else "shade"
    try:
        model, _meta = load_model(args.model)
        if model.sizes[0] != INPUT_SIZE:
            raise ModelFileError(
                f"{args.model}: the model takes {model.sizes[0]} inputs, not {INPUT_SIZE} "
                "(28x28 pixels): it is not an MNIST model"
            )
        if args.top < 1:
            return _error("--top must be at least 1")
        if args.image is not None:
            pixels = to_mnist_pixels(load_grayscale(args.image))
            where, label = f"image {args.image} (as the model sees it, 28x28)", None
        else:
            images, labels = load_mnist("test", args.data_dir)
            if not 0 <= args.index < len(images):
                return _error(
                    f"--index {args.index} is out of range: the test set has {len(images)} "
                    f"digits, numbered 0 to {len(images) - 1}"
                )
            pixels, label = images[args.index], int(labels[args.index])
            where = f"test digit {args.index}"
    except (ModelFileError, ImageInputError, MNISTNotFoundError, IDXError) as e:
        return _error(str(e))
    except MissingPlotExtraError as e:
        return _error(str(e), status=1)

    probs = class_probabilities(model, pixels_to_input(pixels)[None])[0]
    print(where)
    print(render_digit(pixels, style=style, frame=True))
    if label is not None:
        print(f"true label: {label}")
    print(f"predicted:  {int(np.argmax(probs))}")
    print(f"top {min(args.top, len(probs))}:")
    print("\n".join(format_top_classes(probs, args.top, ascii_only=style == "ascii")))
    return 0


def _error(message: str, status: int = 2) -> int:
    print(f"tinygrad-mnist {NAME}: error: {message}", file=sys.stderr)
    return status
