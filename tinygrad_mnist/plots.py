"""Pictures of a training run: learning curves, confusion matrix, mistakes, first-layer weights.

Plotting is optional. matplotlib (and Pillow, for reading your own digit images) come with the
`plot` extra, so `import tinygrad_mnist` never imports them: each function here imports
matplotlib when it is called, and without it raises `MissingPlotExtraError`, whose message
says how to install it.

We draw on a bare `matplotlib.figure.Figure`, which renders with the Agg backend (PNG, no
window) and never touches pyplot's global state, so nothing here opens a window or needs a
display. Each PNG is rendered into memory first and then written with `write_bytes_atomic`,
so an interrupted run never leaves half a PNG behind.

make_plots(model_path, metrics_path, out_dir)  all four for a trained model (`plot`, `train --plot`)
plot_curves(metrics, path)                     loss and accuracy per epoch, train and test
plot_confusion(confusion, path)                10x10 counts: true class x predicted class
plot_misclassified(images, labels, preds, probs, path, n=25)  most confident mistakes
plot_first_layer(weight, path, n=None)         each first-layer unit's weights as a 28x28 image
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic_file import write_bytes_atomic
from .inference import class_probabilities, require_mnist_model
from .serialization import load_model
from .training import evaluate
from .utils.data import flatten, load_mnist, normalize

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = 'pip install "tinygrad-mnist[plot]"  (or  pip install ".[plot]"  from a checkout)'
# Dots per inch of the saved PNGs: small files that still read well in a README.
DPI = 90
PALETTE_COLOURS = 256
IMAGE_SIDE = 28


class MissingPlotExtraError(ImportError):
    """matplotlib or Pillow is not installed; the message says how to install them."""

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs {package}, which is not installed. Install it with: {INSTALL_HINT}"
        )
        self.package = package


def require_matplotlib() -> None:
    """Raise `MissingPlotExtraError` unless matplotlib can be imported.

    Call it before a long computation whose result is going to be plotted, so a missing
    package is reported at the start rather than after the work.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingPlotExtraError("matplotlib", "Plotting") from None


def _new_figure(width_in: float, height_in: float) -> Figure:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), layout="constrained")


def _save_png(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Render `fig` to PNG bytes in memory, then write them to `path` in one atomic step."""
    from PIL import Image  # matplotlib depends on Pillow, so it is there when matplotlib is

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rendered = io.BytesIO()
    fig.savefig(rendered, format="png", dpi=DPI)
    # A plot has few distinct colours: stored as a 256-colour palette image instead of full
    # RGBA, its PNG is 2-3 times smaller and looks the same.
    palette = Image.open(rendered).convert("RGB").quantize(PALETTE_COLOURS)
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    write_bytes_atomic(path, out.getvalue())
    return path


def epoch_series(metrics: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The per-epoch numbers of a metrics dict as float arrays of length E (epochs).

    Accepts the metrics JSON written by `train`, whose "epochs" is a list of per-epoch dicts
    with "epoch", "train_loss", "train_acc", "test_loss" and "test_acc" (accuracies as
    fractions). A value written as null (a diverged loss) becomes NaN, a gap in the curve;
    a key no epoch has is left out.
    """
    epochs = metrics.get("epochs")
    if not isinstance(epochs, list) or not epochs or not all(isinstance(e, dict) for e in epochs):
        raise ValueError("the metrics have no per-epoch records (a non-empty 'epochs' list)")
    series = {"epoch": np.asarray([e.get("epoch", i + 1) for i, e in enumerate(epochs)], float)}
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        values = [e.get(key) for e in epochs]
        if any(v is not None for v in values):
            series[key] = np.asarray([np.nan if v is None else v for v in values], float)
    return series


def plot_curves(metrics: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Two panels: loss per epoch and accuracy (%) per epoch, each for train and test.

    `metrics` is the dict of the metrics JSON (see `epoch_series`). Returns `path`.
    """
    s = epoch_series(metrics)
    fig = _new_figure(9, 3.6)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for split, style in (("train", "-o"), ("test", "--s")):
        if f"{split}_loss" in s:
            loss_ax.plot(s["epoch"], s[f"{split}_loss"], style, label=split, markersize=4)
        if f"{split}_acc" in s:
            acc_ax.plot(s["epoch"], 100 * s[f"{split}_acc"], style, label=split, markersize=4)
    loss_ax.set(title="Cross-entropy loss", xlabel="epoch", ylabel="loss")
    acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        # Epochs are whole numbers; don't label 1.5.
        ax.xaxis.get_major_locator().set_params(integer=True)
    return _save_png(fig, path)


def plot_confusion(confusion: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Heat map of a confusion matrix [C, C] with each count written in its cell.

    confusion[i, j] = how many examples of true class i were predicted as class j, so the
    diagonal holds the correct answers. Returns `path`.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"plot_confusion: need a square matrix, got shape {confusion.shape}")
    n_classes = confusion.shape[0]
    total = int(confusion.sum())
    accuracy = np.trace(confusion) / total if total else 0.0
    fig = _new_figure(6.4, 5.6)
    ax = fig.subplots()
    # On a linear scale the diagonal dominates the colours; the small off-diagonal counts
    # stay readable because every cell also shows its number.
    im = ax.imshow(confusion, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.8, label="count")
    threshold = confusion.max() / 2
    for i in range(n_classes):
        for j in range(n_classes):
            count = int(confusion[i, j])
            color = "white" if count > threshold else "black"  # readable on dark cells
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color=color)
    ticks = range(n_classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.set_title(f"Confusion matrix: {total} examples, accuracy {100 * accuracy:.2f}%")
    return _save_png(fig, path)


def most_confident_mistakes(
    labels: np.ndarray, preds: np.ndarray, probs: np.ndarray, n: int
) -> np.ndarray:
    """Indices of up to `n` examples with preds != labels, highest probs first (ties: lower
    index first). labels, preds, probs: [N]."""
    wrong = np.flatnonzero(np.asarray(labels) != np.asarray(preds))
    return wrong[np.argsort(-np.asarray(probs)[wrong], kind="stable")][:n]


def plot_misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray,
    path: str | os.PathLike[str],
    n: int = 25,
) -> Path:
    """A grid of up to `n` misclassified digits, each titled "true 3 / pred 5 (0.87)".

    images: [N, 28, 28] or [N, 784] (uint8 0..255, or floats); labels, preds: [N] classes;
    probs: [N], the probability the model gave its prediction. The mistakes shown are the
    most confident ones (highest probs first): they are the most instructive. Returns `path`.
    """
    images = np.asarray(images).reshape(len(images), IMAGE_SIDE, IMAGE_SIDE)
    labels, preds, probs = np.asarray(labels), np.asarray(preds), np.asarray(probs)
    if not len(labels) == len(preds) == len(probs) == len(images):
        raise ValueError("plot_misclassified: images, labels, preds and probs differ in length")
    wrong = most_confident_mistakes(labels, preds, probs, n)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    fig = _new_figure(1.45 * cols, 1.6 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, wrong):
        ax.imshow(images[i], cmap="gray_r")  # dark ink on white, like on paper
        ax.set_title(f"true {labels[i]} / pred {preds[i]} ({probs[i]:.2f})", fontsize=8)
    fig.suptitle(f"Misclassified test digits, most confident first ({len(wrong)} shown)")
    return _save_png(fig, path)


def weight_mosaic(units: np.ndarray, cols: int) -> np.ndarray:
    """Tile rows of `units` [K, 784] as 28x28 images into one array [rows*30-2, cols*30-2].

    Each image is divided by its own largest |weight|, so it spans [-1, 1]: weak units'
    patterns stay visible. The 2-pixel gaps between tiles (and empty tiles) are NaN.
    """
    rows = max(1, math.ceil(len(units) / cols))
    gap = 2
    step = IMAGE_SIDE + gap
    mosaic = np.full((rows * step - gap, cols * step - gap), np.nan)
    for k, w in enumerate(units):
        limit = np.abs(w).max() or 1.0  # an all-zero unit stays zero
        r, c = divmod(k, cols)
        tile = w.reshape(IMAGE_SIDE, IMAGE_SIDE) / limit
        mosaic[r * step : r * step + IMAGE_SIDE, c * step : c * step + IMAGE_SIDE] = tile
    return mosaic


def plot_first_layer(
    weight: np.ndarray, path: str | os.PathLike[str], n: int | None = None
) -> Path:
    """Each row of a first-layer weight matrix [out, 784] drawn as a 28x28 image, in a grid.

    Row k holds the weights unit k puts on each pixel, so its image shows the pattern the unit
    responds to. Red is positive, blue negative, white zero; each image is scaled to its own
    largest |weight| (see `weight_mosaic`). `n` limits how many rows are shown (all by
    default). Returns `path`.
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 2 or weight.shape[1] != IMAGE_SIDE * IMAGE_SIDE:
        raise ValueError(
            f"plot_first_layer: need weight [out, {IMAGE_SIDE * IMAGE_SIDE}], got {weight.shape}"
        )
    units = weight[: n if n is not None else len(weight)]
    cols = max(1, math.ceil(math.sqrt(len(units))))
    mosaic = weight_mosaic(units, cols)
    # About 2 screen pixels per weight, at least 300 pixels wide, at most 900.
    width_px = min(900, max(300, 2 * mosaic.shape[1]))
    height_px = width_px * mosaic.shape[0] / mosaic.shape[1]
    fig = _new_figure(width_px / DPI, height_px / DPI + 0.4)
    ax = fig.subplots()
    ax.set_axis_off()
    # One image drawn with "nearest" keeps each weight a sharp block: clearer to read, and
    # far smaller as a PNG than 128 separately resampled images.
    import matplotlib

    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.75")  # gaps in gray
    ax.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(
        f"First-layer weights: {len(units)} of {len(weight)} units "
        "(red +, blue -, each scaled to its max |w|)",
        fontsize=9,
    )
    return _save_png(fig, path)


class MetricsFileError(ValueError):
    """The metrics JSON is missing, unreadable, or lacks the per-epoch records."""


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
        epoch_series(metrics)  # fail now, not after evaluating the model
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
    `MissingPlotExtraError` (before any work) without matplotlib, `ModelFileError`,
    `MNISTNotFoundError`/`IDXError` for the data, and `MetricsFileError`.
    """
    require_matplotlib()
    model, _meta = load_model(model_path)
    require_mnist_model(model_path, model.sizes)
    metrics = load_metrics(metrics_path) if metrics_path is not None else None
    images, labels = load_mnist("test", data_dir)
    x, y = flatten(normalize(images)), labels.astype(np.int64)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if metrics is not None:
        written.append(plot_curves(metrics, out / "curves.png"))
    _accuracy, _per_class, confusion = evaluate(model, x, y)
    written.append(plot_confusion(confusion, out / "confusion.png"))
    probs = class_probabilities(model, x)
    preds = probs.argmax(axis=1)
    confidence = probs[np.arange(len(preds)), preds]  # the probability of each prediction
    written.append(plot_misclassified(images, y, preds, confidence, out / "misclassified.png"))
    first_weight = model[0].weight.data  # (units, 784): one row per first-layer unit
    written.append(plot_first_layer(first_weight, out / "first_layer.png"))
    return written
