"""Every example in examples/ runs, as a user would run it, and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MNIST_DIR, REPO

EXAMPLES = REPO / "examples"

# example -> (extra arguments, text its output must contain)
RUNS = {
    "tensor_basics.py": ([], ["m.reshape(1, 9)", "[12.0, 15.0, 18.0]", "[1.0, 1.0, 1.0]"]),
    "forward_pass.py": (
        [],
        ["a1 = 0.360 0.370 0.380", "h3 = 0.498 0.502", "loss = 0.698", "loss = 0.343"],
    ),
    "gradcheck_demo.py": (
        [],
        ["GoodSigmoid:\ngradcheck: OK", "BuggySigmoid:\ngradcheck: MISMATCH"],
    ),
    "scalar_autograd.py": (
        [],
        [
            "o = tanh(n) = 0.7071",
            "d o / d w1 = +1.0000",  # x1 (1 - o^2) = 2 * 0.5
            "d o / d x1 = -1.5000",  # w1 (1 - o^2) = -3 * 0.5
            "d o / d w2 = +0.0000",  # x2 = 0
        ],
    ),
    "scalar_two_moons.py": (["--steps", "6"], ["accuracy"]),
    "compare_backends.py": (
        ["--steps", "60", "--data-dir", str(MNIST_DIR)],
        ["largest relative loss difference"],
    ),
    "train_mnist.py": (["--epochs", "1", "--data-dir", str(MNIST_DIR)], ["test accuracy"]),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs(name: str, tmp_path: Path):
    args, expected = RUNS[name]
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path,  # files an example writes land here
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in expected:
        assert text in proc.stdout, f"{text!r} not in the output of {name}:\n{proc.stdout}"
    assert len((EXAMPLES / name).read_text().splitlines()) <= 80, f"{name} is over 80 lines"
    if name == "scalar_autograd.py":
        dot = (tmp_path / "neuron.dot").read_text()
        assert dot.startswith("digraph G {") and '"tanh"' in dot
    if name == "scalar_two_moons.py":  # printed at step 0, step 5 (the last) and at the end
        losses = [float(x) for x in re.findall(r"loss (\d+\.\d+)", proc.stdout)]
        assert len(losses) == 3 and losses[-1] < 0.5 * losses[0]
