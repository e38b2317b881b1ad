"""Every example in examples/ runs, as a user would run it, and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HAS_MNIST, MNIST_DIR, NO_MNIST_REASON, REPO

EXAMPLES = REPO / "examples"

# example -> text its output must contain. Every example runs at its defaults, as a user
# would run it: no test-only flags. The MNIST ones find the data through $TINYGRAD_MNIST_DATA.
RUNS = {
    "tensor_basics.py": ["m.reshape(1, 9)", "[12.0, 15.0, 18.0]", "[1.0, 1.0, 1.0]"],
    "forward_pass.py": [  # the course's slide, truncated to 3 decimals, agrees with these
        "a1 = 0.3600 0.3700 0.3800",
        "h1 = 0.5890 0.5915 0.5939",
        "h2 = 0.5136 0.5161 0.5186",
        "h3 = 0.4975 0.5025",
        "loss = 0.6982",
        "the course's slide truncates to 3",
        "loss = 0.3429",
    ],
    "gradcheck_demo.py": ["GoodSigmoid:\ngradcheck: OK", "BuggySigmoid:\ngradcheck: MISMATCH"],
    "scalar_autograd.py": [
        "o = tanh(n) = 0.7071",
        "d o / d w1 = +1.0000",  # x1 (1 - o^2) = 2 * 0.5
        "d o / d x1 = -1.5000",  # w1 (1 - o^2) = -3 * 0.5
        "d o / d w2 = +0.0000",  # x2 = 0
    ],
    "scalar_two_moons.py": ["MLP 2-8-8-1", "final     loss"],
    "activations.py": [
        "  0.0        0.5000 0.2500      0.0000 1.0000      0.0000 0.0000      0.0000 0.1000",
        "autograd's derivatives match the closed forms at all 601 points",
        "wrote activations.png",
    ],
    "softmax_mle.py": [
        "softmax(z)     = [0.659  0.2424 0.0986]",
        "sums to        = 1.0",
        "softmax(z+100) = [0.659  0.2424 0.0986] (shift-invariant)",
        "negative mean log-likelihood = 0.519748\nF.cross_entropy              = 0.519748",
        "softmax regression: training accuracy",
    ],
    "mnist_pipeline.py": [
        "collect   train: images (60000, 28, 28) uint8",
        "transform pixels 0..255 (uint8) -> -1.0..1.0 (float32)",
        "flatten   (1, 28, 28) -> (1, 784)",
        "# runs fused with (1) as one linear+sigmoid op",
        "test      accuracy",
    ],
    "compare_backends.py": [
        "same weights, 20 steps: loss and gradients differ by at most",
        "two separate runs: rounding differences grow",
        "samples/s (training)",
    ],
    "train_mnist.py": ["epoch 3  train loss", "test accuracy"],
}
NEEDS_MNIST = {"mnist_pipeline.py", "compare_backends.py", "train_mnist.py"}


def run_example(name: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,  # files an example writes land here
        env=dict(os.environ, MPLBACKEND="Agg", TINYGRAD_MNIST_DATA=str(MNIST_DIR), **env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


# Each run is a fresh Python process; the course's forward pass stays in the fast lane.
FAST_EXAMPLES = {"forward_pass.py"}


@pytest.mark.parametrize(
    "name",
    [n if n in FAST_EXAMPLES else pytest.param(n, marks=pytest.mark.slow) for n in sorted(RUNS)],
)
def test_example_runs_at_its_defaults(name: str, tmp_path: Path):
    if name in NEEDS_MNIST and not HAS_MNIST:
        pytest.skip(NO_MNIST_REASON)
    if name == "activations.py":
        pytest.importorskip("matplotlib")
    proc = run_example(name, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in RUNS[name]:
        assert text in proc.stdout, f"{text!r} not in the output of {name}:\n{proc.stdout}"
    assert len((EXAMPLES / name).read_text().splitlines()) <= 80, f"{name} is over 80 lines"
    if name == "scalar_autograd.py":
        dot = (tmp_path / "neuron.dot").read_text()
        assert dot.startswith("digraph G {") and '"tanh"' in dot
    if name == "scalar_two_moons.py":  # steps 0, 5, ..., 25, the last, and the end
        losses = [float(x) for x in re.findall(r"loss (\d+\.\d+)", proc.stdout)]
        assert len(losses) == 8 and losses[-1] < 0.25 * losses[0]
        assert float(re.findall(r"accuracy (\d+)%", proc.stdout)[-1]) >= 90
    if name == "activations.py":
        assert (tmp_path / "activations.png").read_bytes()[:4] == b"\x89PNG"
    if name == "mnist_pipeline.py":
        assert float(re.findall(r"accuracy (\d+\.\d+)%", proc.stdout)[-1]) > 85
    if name == "softmax_mle.py":
        assert float(re.findall(r"training accuracy (\d+)%", proc.stdout)[-1]) >= 95


@pytest.mark.slow
def test_compare_backends_without_the_c_backend_says_so(tmp_path: Path, mnist_dir: Path):
    # Hide the compiled kernels, as on a machine where `pip install` had no C compiler.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tinygrad_mnist._kernels':\n"
        "            raise ImportError('no compiled kernels')\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    proc = run_example("compare_backends.py", tmp_path, PYTHONPATH=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "the 'c' backend is not available" in proc.stdout
    assert "no compiled kernels" in proc.stdout
    assert "comparing the backends needs it." in proc.stdout
    assert "numpy alone:" in proc.stdout and "samples/s" in proc.stdout
