"""Shared fixtures: run a test on each backend, find the real MNIST files, the fast lane.

The fast lane, `pytest -m "not slow"`, leaves out what takes seconds: subprocess-heavy runs of
the commands, training on real MNIST, the browser, the examples and the notebook, big kernel
sweeps, and the comparisons against PyTorch (importing torch alone takes seconds). Plain
`pytest` runs everything.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist.training import TEST_SIGINT_ENV
from tinygrad_mnist.utils.data.idx import save_idx

BACKENDS = ("numpy", "c")
REPO = Path(__file__).resolve().parents[1]
# The real MNIST files: $TINYGRAD_MNIST_DATA, else ../shared/mnist beside the repository. Made
# absolute, since the commands the tests start run in another folder. Tests that need the files
# skip without them (the `mnist_dir` fixture, `requires_mnist`): a test never downloads MNIST.
MNIST_DIR = Path(
    os.environ.get("TINYGRAD_MNIST_DATA") or REPO.parent / "shared" / "mnist"
).absolute()
HAS_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
NO_MNIST_REASON = (
    f"the real MNIST files are not at {MNIST_DIR} (set $TINYGRAD_MNIST_DATA to their folder)"
)
requires_mnist = pytest.mark.skipif(not HAS_MNIST, reason=NO_MNIST_REASON)

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
    """The folder of the real MNIST files; the test skips, saying where it looked, without them."""
    if not HAS_MNIST:
        pytest.skip(NO_MNIST_REASON)
    return MNIST_DIR


# ---------------------------------------------------------------- the fast lane
def _fast_lane(config: pytest.Config) -> bool:
    """True when the marker expression leaves the slow tests out (`-m "not slow"`)."""
    return "not slow" in (config.getoption("markexpr", "") or "")


def pytest_configure(config: pytest.Config) -> None:
    # In the fast lane torch counts as absent (`import torch` raises ImportError), so that its
    # import, seconds long, is not paid at collection; the comparisons against it are marked
    # slow below and left out, and the hand-checked values beside them still run.
    if _fast_lane(config) and "torch" not in sys.modules:
        sys.modules["torch"] = None


# The slow tests of files being edited on other branches, marked here so that those edits still
# merge; the marks belong in the files, with @pytest.mark.slow, when their owners next touch them.
# file -> names of its slow tests (without parameters); "*" is every test of the file.
SLOW_TESTS_MARKED_HERE = {
    "test_browser_digit_pad.py": {"*"},  # Chromium, and a model trained on real MNIST
    "test_browser_explorer.py": {"*"},  # Chromium
    "test_browser_explorer_inline.py": {"*"},  # Chromium
    "test_torch_programs.py": {"*"},  # whole training programs, each on both backends
    "test_digit_pad.py": {  # `serve` started in a subprocess
        "test_serve_starts_on_loopback_and_stops_cleanly_on_ctrl_c",
        "test_serve_warns_when_listening_beyond_loopback",
        "test_serve_port_in_use_is_a_one_line_error",
        "test_serve_bad_host_or_port",
        "test_serve_refuses_bad_model_files_before_listening",
        "test_serve_is_in_the_help",
        "test_a_body_that_never_arrives_times_out_without_blocking_others",  # waits on purpose
    },
    "test_viz.py": {  # `explore` in a subprocess
        "test_cli_writes_the_forward_pass_page",
        "test_cli_bad_paths_get_one_line",
        "test_cli_folder_as_out_and_unknown_example",
    },
    "test_tensor_ops.py": {"test_deep_chain_backward"},  # a graph thousands of nodes deep
    "test_gemm.py": {  # the sweeps over shapes, ISAs and activations (test_kernels.py keeps one)
        "test_matmul_odd_shapes",
        "test_matmul_mlp_shapes",
        "test_packed_driver_on_odd_shapes",
        "test_threads_give_same_result",
        "test_concurrent_python_threads",
        "test_linear_forward",
        "test_linear_backward",
        "test_gemm_path_env_accepts_auto_packed_direct_and_reports_anything_else",  # subprocesses
        "test_misspelled_isa_env_is_reported_once_and_ignored",
    },
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Adds the slow marker to the tests of SLOW_TESTS_MARKED_HERE, and to every comparison
    against PyTorch: a test with skipif('torch is not installed'), or named test_matches_torch*
    (those import torch inside the test)."""
    for item in items:
        name = getattr(item, "originalname", item.name)
        marked_here = SLOW_TESTS_MARKED_HERE.get(item.path.name, set())
        if (
            "*" in marked_here
            or name in marked_here
            or name.startswith("test_matches_torch")
            or any("torch" in str(m.kwargs.get("reason", "")) for m in item.iter_markers("skipif"))
        ):
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------- the command line
def write_tiny_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> Path:
    """Tiny random MNIST-shaped IDX files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), np.uint8)
        save_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        save_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, np.uint8))
    return folder


def quick_train(data: Path, out: Path | str, *extra: str) -> list[str]:
    """The arguments of a one-epoch `train` of an 8-unit MLP on NumPy, writing `out`."""
    return [
        "train", "--data-dir", str(data), "--hidden", "8", "--epochs", "1", "--batch-size",
        "20", "--no-progress", "--backend", "numpy", "--output", str(out), *extra,
    ]  # fmt: skip


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A folder of tiny random MNIST-shaped IDX files (60 training, 20 test images)."""
    return write_tiny_mnist(tmp_path / "mnist")


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


# ---------------------------------------------------------------- a real browser
# The browser tests drive the system's Chromium (Debian's `chromium` package) with Playwright
# (the `browser` extra). Playwright never downloads a browser here: it is given the system one.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# As root in a container Chromium needs --no-sandbox; the rest keep it from calling home, which
# a closed network answers with refused connections (and the tests must work offline anyway).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium_path() -> str | None:
    override = os.environ.get("TINYGRAD_MNIST_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    return next((c for c in CHROMIUM_CANDIDATES if Path(c).exists()), None)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium driven by Playwright, shared by the session's browser tests.

    Skips, saying why, when Playwright or a Chromium binary is missing."""
    # CI sets TINYGRAD_MNIST_REQUIRE_BROWSER where it installed Chromium: there a missing piece
    # is a failure, not a skip.
    missing = pytest.fail if os.environ.get("TINYGRAD_MNIST_REQUIRE_BROWSER") else pytest.skip
    if find_spec("playwright") is None:
        missing('needs Playwright: pip install ".[test,browser]"')
    path = _chromium_path()
    if path is None:
        missing(
            "needs Chromium: apt-get install chromium (or set TINYGRAD_MNIST_CHROMIUM to a binary)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium):
    """A fresh page in its own browser context (no shared storage between tests); the console
    errors the page logs are collected in `page.console_errors` for the test to assert on."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    try:
        yield pg
    finally:
        context.close()
