"""The plots (plots.py) and the `plot` command: real PNGs, the right data, a clear message
without matplotlib, and no matplotlib import until a plot is drawn."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, quick_train, requires_plot_extra, run_cli

import tinygrad_mnist as tg
from tinygrad_mnist import cli, plots
from tinygrad_mnist.commands import plot as plot_command
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.serialization import save_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INSTALL = 'pip install "tinygrad-mnist[plot]"'
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def numpy_backend():
    """The NumPy backend runs single-threaded here (the test command limits BLAS threads)."""
    with tg.backend("numpy"):
        yield


def check_png(path: Path) -> tuple[int, int]:
    """Assert `path` is a readable PNG of sensible size; return (width, height)."""
    from matplotlib.image import imread
    from PIL import Image

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    with Image.open(path) as img:
        img.verify()  # checks the chunks' CRCs
    with Image.open(path) as img:
        width, height = img.size
    assert 200 <= width <= 4000 and 200 <= height <= 4000, (width, height)
    pixels = imread(path)  # matplotlib can decode it too
    assert pixels.shape[:2] == (height, width)
    # A plot is not a blank canvas: many distinct colours.
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20
    # Written atomically: no temporary files left next to it.
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    return width, height


def fake_metrics(epochs: int = 4) -> dict:
    return {
        "epochs": [
            {
                "epoch": e + 1,
                "train_loss": 0.5 / (e + 1),
                "train_acc": 0.9 + 0.02 * e,
                "test_loss": 0.6 / (e + 1),
                "test_acc": 0.88 + 0.02 * e,
                "epoch_time": 1.0,
            }
            for e in range(epochs)
        ]
    }


# ---------------------------------------------------------------------------- plot functions
@pytest.mark.slow
@requires_plot_extra
def test_plot_curves_writes_png(tmp_path: Path) -> None:
    path = plots.plot_curves(fake_metrics(), tmp_path / "curves.png")
    assert path == tmp_path / "curves.png"
    width, height = check_png(path)
    assert width > height  # two panels side by side


def test_epoch_series_reads_train_metrics_and_keeps_null_as_gap() -> None:
    metrics = fake_metrics(3)
    metrics["epochs"][1]["test_loss"] = None  # what train writes for a non-finite loss
    s = plots.epoch_series(metrics)
    np.testing.assert_array_equal(s["epoch"], [1, 2, 3])
    np.testing.assert_allclose(s["train_acc"], [0.90, 0.92, 0.94])
    assert np.isnan(s["test_loss"][1]) and s["test_loss"][2] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="per-epoch"):
        plots.epoch_series({"epochs": []})


@pytest.mark.slow
@requires_plot_extra
def test_plot_confusion_writes_png(tmp_path: Path) -> None:
    confusion = np.random.default_rng(0).integers(0, 30, (10, 10)) + np.diag([900] * 10)
    check_png(plots.plot_confusion(confusion, tmp_path / "confusion.png"))
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion(np.zeros((10, 9)), tmp_path / "bad.png")


def test_most_confident_mistakes_picks_wrong_ones_by_probability() -> None:
    labels = np.array([1, 2, 3, 4, 5, 6])
    preds = np.array([1, 7, 3, 8, 9, 6])  # wrong at 1, 3, 4
    probs = np.array([0.99, 0.60, 0.99, 0.95, 0.60, 0.99])
    np.testing.assert_array_equal(
        plots.most_confident_mistakes(labels, preds, probs, 25), [3, 1, 4]
    )
    np.testing.assert_array_equal(plots.most_confident_mistakes(labels, preds, probs, 2), [3, 1])


@pytest.mark.slow
@requires_plot_extra
def test_plot_misclassified_writes_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 40)
    preds = (labels + (np.arange(40) % 2)) % 10  # every other one wrong
    probs = rng.uniform(0.3, 1.0, 40)
    check_png(plots.plot_misclassified(images, labels, preds, probs, tmp_path / "m.png"))
    # No mistakes at all still gives a (mostly empty) picture rather than an error.
    path = plots.plot_misclassified(images, labels, labels, probs, tmp_path / "none.png", n=4)
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_weight_mosaic_places_each_unit_scaled_to_its_max() -> None:
    weight = np.zeros((5, 784))
    weight[0, 0] = 2.0  # unit 0: top-left pixel
    weight[4, 783] = -0.5  # unit 4: bottom-right pixel, negative
    mosaic = plots.weight_mosaic(weight, cols=3)
    assert mosaic.shape == (2 * 30 - 2, 3 * 30 - 2)
    assert mosaic[0, 0] == 1.0  # 2.0 / max |w| of unit 0
    assert mosaic[30 + 27, 30 + 27] == -1.0  # unit 4 is row 1, column 1
    assert np.isnan(mosaic[28, 0]) and np.isnan(mosaic[0, 28])  # gaps
    assert np.isnan(mosaic[30:, 60:]).all()  # the empty sixth tile
    assert np.nanmax(np.abs(mosaic)) == 1.0


@pytest.mark.slow
@requires_plot_extra
def test_plot_first_layer_writes_png(tmp_path: Path) -> None:
    weight = MLP([784, 16, 10], seed=0)[0].weight.data
    check_png(plots.plot_first_layer(weight, tmp_path / "w.png"))
    check_png(plots.plot_first_layer(weight, tmp_path / "w3.png", n=3))
    with pytest.raises(ValueError, match="784"):
        plots.plot_first_layer(np.zeros((4, 100)), tmp_path / "bad.png")


@pytest.mark.slow
@requires_plot_extra
def test_png_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "curves.png"
    path.write_bytes(b"old")
    plots.plot_curves(fake_metrics(), path)
    assert path.read_bytes()[:8] == PNG_MAGIC


# ---------------------------------------------------------------------------- no matplotlib
@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import matplotlib` fail, as if it were not installed (None in sys.modules)."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_without_matplotlib_every_plot_says_how_to_install(no_matplotlib, tmp_path: Path) -> None:
    calls = [
        lambda: plots.require_matplotlib(),
        lambda: plots.plot_curves(fake_metrics(), tmp_path / "a.png"),
        lambda: plots.plot_confusion(np.eye(10), tmp_path / "b.png"),
        lambda: plots.plot_misclassified(
            np.zeros((2, 784)), [1, 2], [2, 1], [0.5, 0.5], tmp_path / "c.png"
        ),
        lambda: plots.plot_first_layer(np.zeros((4, 784)), tmp_path / "d.png"),
        lambda: plot_command.make_plots(tmp_path / "no.npz", None, tmp_path / "out"),
    ]
    for call in calls:
        with pytest.raises(plots.MissingPlotExtraError) as info:
            call()
        message = str(info.value)
        assert "matplotlib" in message and INSTALL in message and 'pip install ".[plot]"' in message
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the output directory


def test_plot_command_without_matplotlib_prints_one_line(
    no_matplotlib, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.npz"
    save_model(model, MLP([784, 8, 10], seed=0))
    assert cli.main(["plot", str(model), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and INSTALL in err


@pytest.mark.slow
def test_importing_the_package_and_cli_does_not_import_matplotlib() -> None:
    code = (
        "import sys, tinygrad_mnist, tinygrad_mnist.cli as cli\n"
        "cli.build_parser()\n"
        "import tinygrad_mnist.plots, tinygrad_mnist.digit_render\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- plot command
@pytest.mark.slow
@requires_plot_extra
def test_make_plots_on_the_test_set(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MLP([784, 16, 10], seed=1)  # untrained: it makes plenty of mistakes to show
    model_path, metrics_path = tmp_path / "m.npz", tmp_path / "m.json"
    save_model(model_path, model)
    metrics_path.write_text(json.dumps(fake_metrics()))

    # Record the data each plot is given, then draw it as usual.
    given = {}
    real_confusion, real_misclassified = plots.plot_confusion, plots.plot_misclassified

    def record_confusion(confusion, path):
        given["confusion"] = np.asarray(confusion)
        return real_confusion(confusion, path)

    def record_misclassified(images, labels, preds, probs, path, n=25):
        given["misclassified"] = (labels, preds, probs)
        return real_misclassified(images, labels, preds, probs, path, n)

    monkeypatch.setattr(plots, "plot_confusion", record_confusion)
    monkeypatch.setattr(plots, "plot_misclassified", record_misclassified)

    out = tmp_path / "plots"
    paths = plot_command.make_plots(model_path, metrics_path, out, mnist_dir)
    names = ["curves.png", "confusion.png", "misclassified.png", "first_layer.png"]
    assert paths == [out / n for n in names]
    for path in paths:
        check_png(path)

    confusion = given["confusion"]
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    labels, preds, probs = given["misclassified"]
    # The same predictions underlie both pictures: each row of the confusion matrix counts
    # one digit's predictions.
    for digit in range(10):
        np.testing.assert_array_equal(
            confusion[digit], np.bincount(preds[labels == digit], minlength=10)
        )
    assert ((probs >= 0.1) & (probs <= 1)).all()  # the top class of 10 has p >= 1/10


@pytest.mark.slow
@requires_plot_extra
def test_plot_command_finds_metrics_next_to_model(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path = tmp_path / "m.npz"
    save_model(model_path, MLP([784, 8, 10], seed=0))
    argv = ["plot", str(model_path), "--out", str(tmp_path / "a"), "--data-dir", str(mnist_dir)]
    assert cli.main(argv) == 0
    assert "skipped curves.png" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "confusion.png",
        "first_layer.png",
        "misclassified.png",
    ]

    (tmp_path / "m.json").write_text(json.dumps(fake_metrics()))
    argv[3] = str(tmp_path / "b")
    assert cli.main(argv) == 0
    assert (tmp_path / "b" / "curves.png").is_file()


@requires_plot_extra
def test_plot_command_bad_inputs_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path = tmp_path / "m.npz"
    save_model(model_path, MLP([784, 8, 10], seed=0))
    bad_metrics = tmp_path / "bad.json"
    bad_metrics.write_text("{not json")
    out = str(tmp_path / "out")
    cases = [
        (["plot", str(model_path), "--metrics", str(bad_metrics), "--out", out], "bad.json"),
        (["plot", str(model_path), "--metrics", str(tmp_path / "x.json"), "--out", out], "no such"),
        (["plot", str(tmp_path / "none.npz"), "--out", out], "no such file"),
    ]
    for argv, expected in cases:
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and expected in err and "Traceback" not in err


# ---------------------------------------------------------------------------- bad destinations and models
@pytest.mark.slow
def test_plot_destinations_are_checked_before_the_work(tmp_path, tiny_data):
    pytest.importorskip("matplotlib")
    (tmp_path / "file").write_text("x")
    result = run_cli(*quick_train(tiny_data, tmp_path / "m.npz", "--plot", str(tmp_path / "file")))
    assert_clean_error(result, 2, r"error: --plot .*file is a file, not a folder")
    assert not (tmp_path / "m.npz").exists()
    result = run_cli("bench", "--plot", str(tmp_path / "nowhere" / "b.png"), "--steps", "1")
    assert_clean_error(
        result, 2, r"error: cannot write .*b\.png: directory .*nowhere does not exist"
    )
    assert result.stdout == ""


@pytest.mark.slow
def test_plot_of_a_model_that_is_not_784_to_10_and_of_deep_metrics(tmp_path, tiny_data):
    pytest.importorskip("matplotlib")
    save_model(tmp_path / "five.npz", MLP([784, 8, 5], seed=0))
    result = run_cli(
        "plot",
        str(tmp_path / "five.npz"),
        "--data-dir",
        str(tiny_data),
        "--out",
        str(tmp_path / "p"),
    )
    assert_clean_error(result, 2, r"maps 784 inputs to 5 outputs")
    save_model(tmp_path / "ok.npz", MLP([784, 8, 10], seed=0))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    result = run_cli(
        "plot", str(tmp_path / "ok.npz"), "--metrics", str(tmp_path / "deep.json"),
        "--data-dir", str(tiny_data), "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert_clean_error(result, 2, r"deep\.json: the metrics JSON is nested too deeply")
