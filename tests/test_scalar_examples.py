"""The scalar examples run as scripts and print what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_scalar_autograd_prints_grads_and_writes_dot(tmp_path):
    out = run("scalar_autograd.py", str(tmp_path))
    assert "o = tanh(n) = 0.7071" in out
    assert "d o / d w1 = +1.0000" in out  # x1 * (1 - o^2) = 2 * 0.5
    assert "d o / d x1 = -1.5000" in out  # w1 * (1 - o^2) = -3 * 0.5
    assert "d o / d w2 = +0.0000" in out  # x2 = 0
    dot = (tmp_path / "neuron.dot").read_text()
    assert dot.startswith("digraph G {") and '"tanh"' in dot


def test_two_moons_loss_goes_down():
    out = run("scalar_two_moons.py", "--steps", "6")
    losses = [float(x) for x in re.findall(r"loss (\d+\.\d+)", out)]
    accuracies = [int(x) for x in re.findall(r"accuracy (\d+)%", out)]
    assert len(losses) == 3  # step 0, step 5 (also the last) and the final line
    assert losses[-1] < 0.5 * losses[0]
    assert accuracies[-1] >= 80
