"""`tinygrad-mnist plot MODEL --out DIR`: the four pictures of a trained model, as PNGs.

    curves.png         loss and accuracy per epoch (needs the metrics JSON of the run)
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
from ..data import IDXError, MNISTNotFoundError, flatten, load_mnist, normalize
from ..serialization import ModelFileError, load_model
from .predict import class_probabilities

NAME = "plot"
NUM_CLASSES = 10


class MetricsFileError(ValueError):
    """The metrics JSON is missing, unreadable, or lacks the per-epoch records."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `plot` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser(
        NAME,
        help="draw learning curves, confusion matrix, mistakes and first-layer weights (PNG)",
        description="Evaluate MODEL on the MNIST test set and write curves.png (if --metrics "
        "is given), confusion.png, misclassified.png and first_layer.png into --out.",
    )
    p.add_argument("model", help="a model file written by `train` (.npz)")
    p.add_argument("--metrics", help="the metrics JSON written by `train` (for curves.png)")
    p.add_argument("--out", required=True, help="directory to write the PNGs into")
    p.add_argument("--data-dir", help="directory holding the MNIST files")
    return p


def confusion_matrix(
    labels: np.ndarray, preds: np.ndarray, n_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Counts [C, C]: entry [i, j] is how many examples of class i were predicted as j."""
    # Each (true, predicted) pair gets its own number i * C + j; counting those numbers
    # counts the pairs.
    pairs = np.asarray(labels, dtype=np.int64) * n_classes + np.asarray(preds, dtype=np.int64)
    return np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def load_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the metrics JSON of a training run; `MetricsFileError` naming the file if bad."""
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except FileNotFoundError:
        raise MetricsFileError(f"{path}: no such metrics file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetricsFileError(f"{path}: cannot read it as a metrics JSON file ({e})") from None
    if not isinstance(metrics, dict):
        raise MetricsFileError(f"{path}: a metrics file must hold a JSON object")
    try:
        plots.epoch_series(metrics)  # fail now, not after evaluating the model
    except (ValueError, TypeError, AttributeError) as e:
        raise MetricsFileError(f"{path}: {e}") from None
    return metrics


def make_plots(
    model_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write the PNGs for a trained model into `out_dir` (created if needed); return their paths.

    curves.png is drawn only when `metrics_path` is given. The model is run on the whole
    test set for the confusion matrix and the misclassified digits. Raises
    `plots.MissingPlotExtraError` (before any work) without matplotlib, `ModelFileError`,
    `MNISTNotFoundError`/`IDXError` for the data, and `MetricsFileError`.
    """
    plots.require_matplotlib()
    out = Path(out_dir)
    model, _meta = load_model(model_path)
    metrics = load_metrics(metrics_path) if metrics_path is not None else None
    images, labels = load_mnist("test", data_dir)

    probs = class_probabilities(model, flatten(normalize(images)))
    preds = probs.argmax(axis=1)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if metrics is not None:
        written.append(plots.plot_curves(metrics, out / "curves.png"))
    written.append(plots.plot_confusion(confusion_matrix(labels, preds), out / "confusion.png"))
    confidence = probs[np.arange(len(preds)), preds]
    written.append(
        plots.plot_misclassified(images, labels, preds, confidence, out / "misclassified.png")
    )
    first_weight = model[0].weight.data  # (units, 784): one row per first-layer unit
    written.append(plots.plot_first_layer(first_weight, out / "first_layer.png"))
    return written


def run(args: argparse.Namespace) -> int:
    """Run `plot`: 0 on success, 1 without matplotlib, 2 for bad input files."""
    try:
        paths = make_plots(args.model, args.metrics, args.out, args.data_dir)
    except plots.MissingPlotExtraError as e:
        return _error(str(e), status=1)
    except (ModelFileError, MNISTNotFoundError, IDXError, MetricsFileError) as e:
        return _error(str(e))
    for path in paths:
        print(f"wrote {path}")
    return 0


def _error(message: str, status: int = 2) -> int:
    print(f"tinygrad-mnist {NAME}: error: {message}", file=sys.stderr)
    return status
