"""PyTorch programs that run unchanged on tinygrad_mnist: only the imports are swapped.

Each program in tests/torch_programs/ is written for PyTorch (`import torch`). It runs once
as it is, under real torch (where installed), and once per backend with its import lines
swapped for tinygrad_mnist's (`import tinygrad_mnist as torch`, ...). Both runs must reach the
same result within the tolerance given here. The random streams differ (a seed gives other
numbers here than in torch), so where a program draws random numbers the tolerance covers
that; where it draws none (data from a seeded NumPy generator, zero initial weights), the two
runs agree to float32 rounding.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

try:
    import torch

    torch.set_num_threads(1)  # small programs: threads only add overhead on a shared machine
except ImportError:  # torch is a test oracle only
    torch = None

import tinygrad_mnist as tg

PROGRAMS = Path(__file__).resolve().parent / "torch_programs"

# the import lines a user would change, and nothing else
SWAPS = [
    (r"^import torch$", "import tinygrad_mnist as torch"),
    (r"^import torch\.nn as nn$", "import tinygrad_mnist.nn as nn"),
    (r"^import torch\.nn\.functional as F$", "import tinygrad_mnist.nn.functional as F"),
    (r"^from torch import nn$", "from tinygrad_mnist import nn"),
    (r"^from torch\.utils\.data import ", "from tinygrad_mnist.utils.data import "),
]

# program -> {result variable: (absolute tolerance, or "equal")}
EXPECTED = {
    "logistic_regression": {"final_loss": 1e-4, "accuracy": 1e-9},
    "mlp_dataloader": {"test_accuracy": 0.03},
    "manual_sgd": {"final_loss": 1e-4, "bias": 2e-3},
    "char_mlp": {"full_loss": 0.15},
    "regression_randn": {"weight_error": 0.03, "bias_learned": 0.05, "final_loss": 0.004},
    "sequential_flatten": {"test_accuracy": 0.03},
    "save_load": {
        "max_difference": "equal",
        "checkpoint_difference": "equal",
        "saved_epoch": "equal",
        "tensors_equal": "equal",
        "label_dtype_kept": "equal",
    },
}


def swapped(source: str) -> str:
    """The program with its torch imports replaced by tinygrad_mnist's."""
    lines = []
    for line in source.splitlines():
        for pattern, replacement in SWAPS:
            line = re.sub(pattern, replacement, line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_program(source: str, name: str) -> dict:
    """exec the program as __main__; its globals (and its printed output, kept quiet)."""
    namespace = {"__name__": "__main__", "__file__": str(PROGRAMS / f"{name}.py")}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, f"{name}.py", "exec"), namespace)
    return namespace


def test_the_swap_changes_only_import_lines():
    for path in PROGRAMS.glob("*.py"):
        src = path.read_text()
        changed = [(a, b) for a, b in zip(src.splitlines(), swapped(src).splitlines()) if a != b]
        assert changed, path.name
        assert all("import" in a and "tinygrad_mnist" in b for a, b in changed)
    assert sorted(p.stem for p in PROGRAMS.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_program_runs_unchanged_and_matches_torch(name, backend_name):
    source = (PROGRAMS / f"{name}.py").read_text()
    tg.manual_seed(0)  # the programs seed themselves; this only fixes what runs before
    ours = run_program(swapped(source), name)
    for var in EXPECTED[name]:
        assert var in ours, f"{name} did not set {var}"
    if torch is None:
        pytest.skip("torch is not installed: the program ran, but there is nothing to compare")
    theirs = run_program(source, name)
    for var, tol in EXPECTED[name].items():
        if tol == "equal":
            assert ours[var] == theirs[var], (var, ours[var], theirs[var])
        else:
            assert abs(ours[var] - theirs[var]) <= tol, (var, ours[var], theirs[var])
