"""`tinygrad-mnist eval MODEL`: test accuracy of a saved model, overall and per digit.

tinygrad-mnist eval mnist_mlp.npz
tinygrad-mnist eval mnist_mlp.npz --json      the same numbers as JSON, for scripts
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math

import numpy as np

from .. import backends
from ..backends import NAMES as BACKENDS
from ..inference import require_mnist_model
from ..serialization import ModelFileError, load_model
from ..training import accuracies, evaluate_with_loss
from ..utils.data import load_mnist_arrays
from . import HelpFormatter, add_data_dir
from .arguments import positive_int

NAME = "eval"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `eval` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="test accuracy of a saved model, overall and per digit",
        description="Load MODEL (written by `train`), run it on the MNIST test set, and print "
        "the accuracy and a per-digit accuracy table.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `train` (.npz)")
    add_data_dir(p)
    p.add_argument(
        "--test-limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="use the first N test images only (default: all 10000)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="array backend (default: $TINYGRAD_BACKEND, else c if compiled, else numpy)",
    )
    p.add_argument(
        "--json", action="store_true", help="print the results as one JSON object instead"
    )
    return p


def run(args: argparse.Namespace) -> int:
    """Evaluate; 0 when done. Bad files and missing data go up to cli.main as errors."""
    model, _meta = load_model(args.model)  # first: a bad model file needs no data to report
    require_mnist_model(args.model, model.sizes)
    x, y = load_mnist_arrays("test", args.data_dir)
    x, y = x[: args.test_limit], y[: args.test_limit]
    chosen = backends.backend(args.backend) if args.backend else contextlib.nullcontext()
    with chosen:
        with np.errstate(over="ignore", invalid="ignore"):
            loss, confusion = evaluate_with_loss(model, x, y)
        if not math.isfinite(loss):  # NaN logits: every argmax would be a made-up 0
            raise ModelFileError(
                f"{args.model}: the model's outputs overflow to NaN/Inf on the test images "
                "(its weights are too large for float32); no accuracy can be given"
            )
        accuracy, per_class = accuracies(confusion)
        backend_name = backends.get_backend()

    totals, correct = confusion.sum(axis=1), confusion.diagonal()
    if args.json:
        result = {
            "model": str(args.model),
            "backend": backend_name,
            "test_samples": int(len(y)),
            "test_acc": accuracy,
            "per_class_acc": [None if t == 0 else float(a) for a, t in zip(per_class, totals)],
            "confusion": confusion.tolist(),
        }
        print(json.dumps(result, indent=2))
        return 0

    print(f"model {args.model}: MLP {model.sizes}, {model.activation}  (backend {backend_name})")
    print(f"test accuracy {100 * accuracy:.2f}%  ({int(correct.sum())}/{len(y)})")
    print()
    print("digit  accuracy  correct/total")
    for digit, (acc, right, total) in enumerate(zip(per_class, correct, totals)):
        shown = f"{100 * acc:7.2f}%" if total else "      -"
        print(f"{digit:>5}  {shown}  {right:>7}/{total}")
    return 0
