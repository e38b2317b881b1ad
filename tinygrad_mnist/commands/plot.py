"""`tinygrad-mnist plot MODEL --out DIR`: the four pictures of a trained model, as PNGs.

    curves.png         loss and accuracy per epoch (from the metrics JSON of the run)
    confusion.png      test-set confusion matrix
    misclassified.png  the test digits the model gets wrong most confidently
    first_layer.png    the first layer's weights, one 28x28 image per unit

The pictures are drawn by `plots.make_plots`, which `train --plot DIR` also calls after
training. Plotting needs matplotlib (the `plot` extra); without it the command says how to
install it.
"""

from __future__ import annotations

import argparse
import sys

from ..plots import MetricsFileError, MissingPlotExtraError, make_plots
from ..training import default_metrics_path
from . import HelpFormatter, add_data_dir

NAME = "plot"


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


def run(args: argparse.Namespace) -> int:
    """Draw the plots; 0 when done, 1 without matplotlib, 2 for a bad metrics file.

    A bad model file or missing MNIST data go up to cli.main, which reports them (exit 2).
    """
    metrics = args.metrics
    if metrics is None and default_metrics_path(args.model).is_file():
        metrics = default_metrics_path(args.model)
    try:
        paths = make_plots(args.model, metrics, args.out, args.data_dir)
    except MissingPlotExtraError as e:
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
