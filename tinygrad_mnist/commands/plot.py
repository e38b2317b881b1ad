"""`tinygrad-mnist plot MODEL --out DIR`: the four pictures of a trained model, as PNGs.

    curves.png         loss and accuracy per epoch (from the metrics JSON of the run)
    confusion.png      test-set confusion matrix
    misclassified.png  the test digits the model gets wrong most confidently
    first_layer.png    the first layer's weights, one 28x28 image per unit

`make_plots` is also what `train --plot DIR` calls after training. Plotting needs matplotlib
(the `plot` extra); without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import flatten, load_mnist, normalize
from ..inference import class_probabilities, require_mnist_model
from ..serialization import load_model
from ..training import default_metrics_path, evaluate
from . import HelpFormatter, add_data_dir

NAME = "plot"


class MetricsFileError(ValueError):
    """The metrics JSON is missing, unreadable, or lacks the per-epoch records."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `plot` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="draw learning curves, confusion matrix, mistakes and first-layer weights (PNG)",
        description="Run MODEL on the MNIST test set and write curves.png, confusion.png, "
        "misclassified.png and first_layer.png into the --out directory. Needs matplotlib.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `train` (.npz)")
    p.add_argument(
        "--metrics",
        default=None,
        metavar="FILE",
        help="metrics JSON written by `train`, for curves.png (default: MODEL with .json if "
        "that file exists, else curves.png is skipped)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write the PNGs to")
    add_data_dir(p)
    return p


def load_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the metrics JSON of a training run; `MetricsFileError` naming the file if bad."""
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except FileNotFoundError:
        raise MetricsFileError(f"{path}: no such metrics file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetricsFileError(f"{path}: cannot read it as a metrics JSON file ({e})") from None
    except RecursionError:
        raise MetricsFileError(f"{path}: the metrics JSON is nested too deeply") from None
    if not isinstance(metrics, dict):
        raise MetricsFileError(f"{path}: a metrics file must hold a JSON object")
    try:
        plots.epoch_series(metrics)  # fail now, not after evaluating the model
    except (ValueError, TypeError) as e:
        raise MetricsFileError(f"{path}: {e}") from None
    return metrics


def make_plots(
    model_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write the PNGs for a trained model into `out_dir` (created if needed); return their paths.

    curves.png is drawn only when `metrics_path` is given. The model runs on the whole test
    set for the confusion matrix and the misclassified digits. Raises
    `plots.MissingPlotExtraError` (before any work) without matplotlib, `ModelFileError`,
    `MNISTNotFoundError`/`IDXError` for the data, and `MetricsFileError`.
    """
    plots.require_matplotlib()
    model, _meta = load_model(model_path)
    require_mnist_model(model_path, model.sizes)
    metrics = load_metrics(metrics_path) if metrics_path is not None else None
    images, labels = load_mnist("test", data_dir)
    x, y = flatten(normalize(images)), labels.astype(np.int64)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if metrics is not None:
        written.append(plots.plot_curves(metrics, out / "curves.png"))
    _accuracy, _per_class, confusion = evaluate(model, x, y)
    written.append(plots.plot_confusion(confusion, out / "confusion.png"))
    probs = class_probabilities(model, x)
    preds = probs.argmax(axis=1)
    confidence = probs[np.arange(len(preds)), preds]  # the probability of each prediction
    written.append(
        plots.plot_misclassified(images, y, preds, confidence, out / "misclassified.png")
    )
    first_weight = model[0].weight.data  # (units, 784): one row per first-layer unit
    written.append(plots.plot_first_layer(first_weight, out / "first_layer.png"))
    return written


def run(args: argparse.Namespace) -> int:
    """Draw the plots; 0 when done, 1 without matplotlib, 2 for a bad metrics file.

    A bad model file or missing MNIST data go up to cli.main, which reports them (exit 2).
    """
    metrics = args.metrics
    if metrics is None and default_metrics_path(args.model).is_file():
        metrics = default_metrics_path(args.model)
    try:
        paths = make_plots(args.model, metrics, args.out, args.data_dir)
    except plots.MissingPlotExtraError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except MetricsFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if metrics is None:
        print(f"note: no metrics file ({default_metrics_path(args.model)}); skipped curves.png")
    for path in paths:
        print(f"wrote {path}")
    return 0
