"""Shared fixtures: run a test on each backend, find the real MNIST files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

import pytest

import tinygrad_mnist as tg
from tinygrad_mnist.training import TEST_SIGINT_ENV

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


# ---------------------------------------------------------------- the command line
def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m tinygrad_mnist ARGS` on one core, run outside the repo so that the installed
    package (with its compiled kernels), or the one on $PYTHONPATH, is the one imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("TINYGRAD_MNIST_DATA", TEST_SIGINT_ENV)}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TINYGRAD_NUM_THREADS="1")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_mnist", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=300,
    )


def assert_clean_error(result: subprocess.CompletedProcess, status: int, pattern: str) -> None:
    """Exit status `status`, stderr matching `pattern`, and no traceback anywhere."""
    assert result.returncode == status, (result.returncode, result.stderr)
    assert re.search(pattern, result.stderr), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
