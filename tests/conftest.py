"""Shared fixtures: run a test on each backend, find the real MNIST files."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

import tinygrad_mnist as tg

BACKENDS = ("numpy", "c")
REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "mnist"

HAS_PLOT_EXTRA = find_spec("matplotlib") is not None and find_spec("PIL") is not None
# Tests that draw real PNGs need the optional `plot` extra; without it they skip and say how
# to get it (the code paths for a missing matplotlib are tested either way).
requires_plot_extra = pytest.mark.skipif(
    not HAS_PLOT_EXTRA,
    reason='needs the plot extra (matplotlib, Pillow): pip install ".[test,plot]"',
)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest):
    """Runs the test once per backend, with that backend selected in this thread."""
    with tg.backend(request.param):
        yield request.param


@pytest.fixture
def mnist_dir() -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    return MNIST_DIR
